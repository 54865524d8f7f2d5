/**
 * edge-token-service/resource: DPoP-bound tokens of this service at a resource server (RFC 9449
 * §7): the proof of each request, its binding to the token (`ath`, `cnf.jkt`), single use of its
 * jti in the resource server's own window, and server nonces.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createDpopNonces, memoryReplayStore, verifyAccessToken } from "../../src/resource/index.js";
import type { ReplayStore } from "../../src/resource/dpop.js";
import type { VerifyOptions } from "../../src/resource/verify.js";
import { dpopKey, dpopProof, type DpopKey } from "../lifecycle-helpers.js";
import { expectRejected, mintToken, nowSeconds, options, registerResourceClient, RESOURCE, resourceProof, resourceRequest } from "./resource-support.js";

/** A DPoP-bound token for RESOURCE, and its key. */
async function boundToken(alg = "ES256"): Promise<{ token: string; key: DpopKey }> {
  const key = await dpopKey(alg);
  const token = await mintToken(await registerResourceClient(), {}, await dpopProof(key));
  expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt });
  return { token, key };
}

/** The resource request a DPoP client makes: `Authorization: DPoP <token>` plus its proof. */
async function dpopRequest(token: string, proof: string | Promise<string>, url = RESOURCE, method = "GET"): Promise<Request> {
  return resourceRequest(token, "DPoP", { DPoP: await proof }, url, method);
}

describe("verifyAccessToken: DPoP-bound tokens", () => {
  it("accepts the token with a fresh proof of its key for this request (ES256 and PS256 keys)", async () => {
    for (const alg of ["ES256", "PS256"]) {
      const { token, key } = await boundToken(alg);
      const claims = await verifyAccessToken(await dpopRequest(token, resourceProof(key, token)), options());
      expect(claims.cnf).toEqual({ jkt: key.jkt });
    }
  });

  it("refuses a bound token presented as Bearer, and an unbound token presented as DPoP", async () => {
    const { token, key } = await boundToken();
    await expectRejected(verifyAccessToken(resourceRequest(token), options()), 401, "invalid_token", /DPoP-bound: present it with the DPoP scheme/);
    await expectRejected(verifyAccessToken(token, options()), 401, "invalid_token", /DPoP-bound/);
    const bearer = await mintToken(await registerResourceClient());
    await expectRejected(verifyAccessToken(await dpopRequest(bearer, resourceProof(key, bearer)), options()), 401, "invalid_token", /not DPoP-bound/);
  });

  it("dpop.required refuses Bearer tokens and offers only the DPoP challenge", async () => {
    const bearer = await mintToken(await registerResourceClient());
    const err = await expectRejected(verifyAccessToken(resourceRequest(bearer), options({ dpop: { required: true } })), 401, "invalid_token", /only DPoP-bound/);
    expect(err.wwwAuthenticate).toMatch(/^DPoP algs="[^"]+"$/);
  });

  it("a missing proof is invalid_dpop_proof, on the DPoP challenge", async () => {
    const { token } = await boundToken();
    const err = await expectRejected(verifyAccessToken(resourceRequest(token, "DPoP"), options()), 401, "invalid_dpop_proof", /needs a DPoP proof header/);
    expect(err.wwwAuthenticate).toMatch(/^Bearer, DPoP error="invalid_dpop_proof", error_description="[^"]+", algs=/);
  });

  it("ath must be the hash of the token presented with it (a proof made for another token is refused)", async () => {
    const { token, key } = await boundToken();
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { ath: undefined })), options()), 401, "invalid_dpop_proof", /ath does not match/);
    const other = await mintToken(await registerResourceClient(), {}, await dpopProof(key));
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, other)), options()), 401, "invalid_dpop_proof", /ath does not match/);
  });

  it("the proof key must be the token's cnf.jkt: a stolen token with the thief's own key is refused", async () => {
    const { token } = await boundToken();
    const thief = await dpopKey("ES256");
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(thief, token)), options()), 401, "invalid_dpop_proof", /not the key the access token is bound to/);
  });

  it("htm and htu must match this request; the query is not part of htu", async () => {
    const { token, key } = await boundToken();
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token), RESOURCE, "POST"), options()), 401, "invalid_dpop_proof", /htm does not match/);
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { htu: `${RESOURCE}/other` })), options()), 401, "invalid_dpop_proof", /htu does not match/);
    await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token), `${RESOURCE}?page=2`), options())).resolves.toBeTruthy();
  });

  it("behind a proxy, requestUrl derives each request's own URL: a proof is bound to its URL, never to a fixed one", async () => {
    const { token, key } = await boundToken();
    // Shared options (the Hono middleware passes one object for every request): a fixed URL would
    // let a proof made for one path pass at every path, so it is refused as a misconfiguration.
    const fixed = options({ requestUrl: RESOURCE } as unknown as Partial<VerifyOptions>);
    await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token), "http://10.0.0.7:8080/orders"), fixed)).rejects.toThrow(TypeError);
    await expect(verifyAccessToken(resourceRequest(await mintToken(await registerResourceClient())), fixed)).rejects.toThrow(TypeError);

    const shared = options({ requestUrl: (request) => `https://api.example${new URL(request.url).pathname}` });
    await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token), "http://10.0.0.7:8080/orders"), shared)).resolves.toBeTruthy();
    // The same kind of proof, made for /orders, is refused at another path behind the same proxy.
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token), "http://10.0.0.7:8080/admin"), shared), 401, "invalid_dpop_proof", /htu does not match/);
  });

  it("iat must be within the window (60 s plus skew) either way", async () => {
    const { token, key } = await boundToken();
    const now = nowSeconds();
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { iat: now - 120 })), options()), 401, "invalid_dpop_proof", /iat is too far in the past/);
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { iat: now + 120 })), options()), 401, "invalid_dpop_proof", /too far in the future/);
    await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { iat: now - 50 })), options())).resolves.toBeTruthy();
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { iat: now - 50 })), options({ dpop: { iatWindowSeconds: 10 } })), 401, "invalid_dpop_proof", /iat is too far in the past/);
  });

  it("typ, alg and the embedded public key are checked, and one DPoP header only", async () => {
    const { token, key } = await boundToken();
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, {}, { typ: "JWT" })), options()), 401, "invalid_dpop_proof", /typ header must be dpop\+jwt/);
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, {}, { jwk: undefined })), options()), 401, "invalid_dpop_proof", /has no jwk/);
    const proof = await resourceProof(key, token);
    await expectRejected(verifyAccessToken(await dpopRequest(token, `${proof}, ${proof}`), options()), 401, "invalid_dpop_proof", /more than one/);
    const [h, p] = proof.split(".");
    await expectRejected(verifyAccessToken(await dpopRequest(token, `${h}.${p}.${"A".repeat(86)}`), options()), 401, "invalid_dpop_proof", /signature does not verify/);
  });

  it("a proof is single use in the resource server's window; the store is pluggable and consulted last", async () => {
    const { token, key } = await boundToken();
    const store = memoryReplayStore();
    const proof = await resourceProof(key, token);
    await verifyAccessToken(await dpopRequest(token, proof), options({ dpop: { replayStore: store } }));
    await expectRejected(verifyAccessToken(await dpopRequest(token, proof), options({ dpop: { replayStore: store } })), 401, "invalid_dpop_proof", /already been used/);

    const recorded: Array<[string, number]> = [];
    const custom: ReplayStore = { consumeOnce: (k, exp) => (recorded.push([k, exp]), true) };
    const fresh = await resourceProof(key, token);
    // A request refused for scope does not spend its proof.
    await expectRejected(verifyAccessToken(await dpopRequest(token, fresh), options({ scopes: ["admin"], dpop: { replayStore: custom } })), 403, "insufficient_scope");
    expect(recorded).toEqual([]);
    await verifyAccessToken(await dpopRequest(token, fresh), options({ dpop: { replayStore: custom } }));
    expect(recorded).toEqual([[`${key.jkt}:${decodeJwt(fresh).jti}`, (decodeJwt(fresh).iat as number) + 60 + 15]]);

    // The default kind of store, full of live proofs, still accepts a fresh one (it used to answer 503).
    const small = memoryReplayStore({ maxEntries: 1 });
    for (let i = 0; i < 3; i++) await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token)), options({ dpop: { replayStore: small } }))).resolves.toBeTruthy();

    const failing: ReplayStore = { consumeOnce: () => Promise.reject(new Error("down")) };
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token)), options({ dpop: { replayStore: failing } })), 503, "temporarily_unavailable");
  });

  it("with server nonces configured: use_dpop_nonce with a DPoP-Nonce header, then the retry with it passes", async () => {
    const { token, key } = await boundToken();
    const nonces = createDpopNonces({ secret: "0123456789abcdef0123456789abcdef" });
    const err = await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token)), options({ dpop: { nonces } })), 401, "use_dpop_nonce");
    const nonce = err.headers["DPoP-Nonce"]!;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(err.wwwAuthenticate).toMatch(/DPoP error="use_dpop_nonce"/);
    expect(err.toResponse().headers.get("DPoP-Nonce")).toBe(nonce);
    await expect(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { nonce })), options({ dpop: { nonces } }))).resolves.toBeTruthy();
    const forged = `${nowSeconds()}.${"A".repeat(43)}`;
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { nonce: forged })), options({ dpop: { nonces } })), 401, "use_dpop_nonce");
    const stale = await nonces.issue(nowSeconds() - 600);
    await expectRejected(verifyAccessToken(await dpopRequest(token, resourceProof(key, token, { nonce: stale })), options({ dpop: { nonces } })), 401, "use_dpop_nonce");
  });
});
