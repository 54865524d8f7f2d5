import { env } from "cloudflare:test";
import { base64url, CompactSign, decodeJwt, exportJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ALL_DPOP_DESCRIPTIONS } from "../../../src/oauth/dpop.js";
import {
  callWorker,
  expectOAuthError,
  ISSUER,
  JWT_BEARER,
  keyAssertion,
  nowSeconds,
  OTK_TOKEN_URL,
  postForm,
  registerKeyClient,
  TOKEN_URL,
  tokenWithAssertion,
} from "../../support/helpers.js";
import { dpopKey, dpopProof, INTROSPECT_URL, introspection, tokenWithDpop } from "../../support/lifecycle.js";

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** A compact JWS with the given header and payload and a dummy signature (for checks that run before verification). */
const unsignedProof = (header: Record<string, unknown>, payload: Record<string, unknown> = {}) =>
  `${encodeJson(header)}.${encodeJson(payload)}.${base64url.encode("not a signature")}`;

async function expectInvalidProof(res: Response, descriptionPattern: RegExp) {
  const body = await expectOAuthError(res, 400, "invalid_dpop_proof");
  expect(body.error_description).toMatch(descriptionPattern);
}

describe("DPoP-bound access tokens (RFC 9449)", () => {
  it("issues token_type DPoP with cnf.jkt = the RFC 7638 thumbprint of the proof key", async () => {
    const client = await registerKeyClient("ES256");
    const key = await dpopKey("ES256");
    const res = await tokenWithDpop(await keyAssertion(client), await dpopProof(key));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("DPoP-Nonce")).toBeNull();
    const body = await res.json<any>();
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });

    // Introspection reports the binding (RFC 9449 §6.2).
    const info = await introspection(client, body.access_token);
    expect(info).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt: key.jkt } });
  });

  it("accepts RSA (PS256) and Ed25519 proof keys", async () => {
    for (const alg of ["PS256", "Ed25519"]) {
      const client = await registerKeyClient("ES256");
      const key = await dpopKey(alg);
      const res = await tokenWithDpop(await keyAssertion(client), await dpopProof(key));
      expect(res.status, alg).toBe(200);
      expect(decodeJwt((await res.json<any>()).access_token).cnf).toEqual({ jkt: key.jkt });
    }
  });

  it("without a DPoP header issues a Bearer token without cnf", async () => {
    const client = await registerKeyClient("ES256");
    const body = await (await tokenWithAssertion(await keyAssertion(client))).json<any>();
    expect(body.token_type).toBe("Bearer");
    expect(decodeJwt(body.access_token).cnf).toBeUndefined();
  });

  it("normalises htu (scheme and host case, default port) and ignores the request query", async () => {
    const client = await registerKeyClient("ES256");
    const key = await dpopKey();
    const proof = await dpopProof(key, { htu: "HTTPS://ISSUER.test:443/oauth2/token" });
    const res = await tokenWithDpop(await keyAssertion(client), proof, {}, `${TOKEN_URL}?tenant=a`);
    expect(res.status).toBe(200);
  });

  it("binds on the OAuth Toolkit path with htu = that path", async () => {
    const client = await registerKeyClient("ES256");
    const key = await dpopKey();
    const res = await tokenWithDpop(await keyAssertion(client, { aud: OTK_TOKEN_URL }), await dpopProof(key, { htu: OTK_TOKEN_URL }), {}, OTK_TOKEN_URL);
    expect(res.status).toBe(200);
    expect((await res.json<any>()).token_type).toBe("DPoP");
  });

  it("keeps proof jtis apart from client assertion jtis (same jti value in both)", async () => {
    const client = await registerKeyClient("ES256");
    const jti = crypto.randomUUID();
    const res = await tokenWithDpop(await keyAssertion(client, { jti }), await dpopProof(await dpopKey(), { jti }));
    expect(res.status).toBe(200);
  });
});

describe("DPoP proof checks: each failure is invalid_dpop_proof with its own description", () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ["not a JWS", async () => "not-a-jwt", /not a compact JWS/],
    ["a JWE-shaped value", async () => "a.b.c.d.e", /not a compact JWS/],
    ["an empty signature (unsecured)", async () => `${encodeJson({ typ: "dpop+jwt", alg: "none" })}.${encodeJson({})}.`, /not a compact JWS/],
    ["larger than 8 KiB", async () => dpopProof(await dpopKey(), { padding: "x".repeat(9000) }), /larger than 8 KiB/],
    ["typ JWT", async () => dpopProof(await dpopKey(), {}, { typ: "JWT" }), /typ header must be dpop\+jwt/],
    ["no typ", async () => dpopProof(await dpopKey(), {}, { typ: undefined }), /typ header must be dpop\+jwt/],
    ["alg none", async () => unsignedProof({ typ: "dpop+jwt", alg: "none", jwk: (await dpopKey()).publicJwk }), /alg must be an asymmetric/],
    [
      "alg HS256",
      async () =>
        new SignJWT({ jti: "x", htm: "POST", htu: TOKEN_URL, iat: nowSeconds() })
          .setProtectedHeader({ typ: "dpop+jwt", alg: "HS256", jwk: { kty: "oct", k: "AAAA" } } as any)
          .sign(new Uint8Array(32)),
      /alg must be an asymmetric/,
    ],
    [
      "a crit header",
      async () => {
        const key = await dpopKey();
        return new SignJWT({ jti: "x", htm: "POST", htu: TOKEN_URL, iat: nowSeconds() })
          .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk, crit: ["exp-ext"], "exp-ext": 1 } as any)
          .sign(key.privateKey, { crit: { "exp-ext": true } });
      },
      /crit header parameter/,
    ],
    ["no jwk", async () => dpopProof(await dpopKey(), {}, { jwk: undefined }), /has no jwk/],
    [
      "a private jwk",
      async () => {
        const key = await dpopKey();
        return dpopProof(key, {}, { jwk: await exportJWK(key.privateKey) });
      },
      /contains private key material/,
    ],
    ["a jwk of another key type than alg", async () => dpopProof(await dpopKey("ES256"), {}, { jwk: (await dpopKey("Ed25519")).publicJwk }), /key type does not match/],
    [
      "an RSA jwk under 2048 bits",
      async () => unsignedProof({ typ: "dpop+jwt", alg: "RS256", jwk: { kty: "RSA", e: "AQAB", n: base64url.encode(new Uint8Array(128).fill(0xc5)) } }),
      /shorter than 2048 bits/,
    ],
    ["a jwk that is not a key", async () => dpopProof(await dpopKey(), {}, { jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" } }), /cannot be imported/],
    ["a signature by another key", async () => dpopProof(await dpopKey(), {}, { jwk: (await dpopKey()).publicJwk }), /signature does not verify/],
    [
      "a payload that is not JSON",
      async () => {
        const key = await dpopKey();
        return new CompactSign(new TextEncoder().encode("not json")).setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk }).sign(key.privateKey);
      },
      /payload is not a JSON object/,
    ],
    ["no jti", async () => dpopProof(await dpopKey(), { jti: undefined }), /jti is missing/],
    ["a jti over 256 characters", async () => dpopProof(await dpopKey(), { jti: "j".repeat(257) }), /longer than 256/],
    ["no htm", async () => dpopProof(await dpopKey(), { htm: undefined }), /htm is missing/],
    ["htm GET (a proof for another method)", async () => dpopProof(await dpopKey(), { htm: "GET" }), /htm does not match/],
    ["no htu", async () => dpopProof(await dpopKey(), { htu: undefined }), /htu is missing/],
    ["a relative htu", async () => dpopProof(await dpopKey(), { htu: "/oauth2/token" }), /htu is missing or not an absolute/],
    ["htu of another endpoint", async () => dpopProof(await dpopKey(), { htu: INTROSPECT_URL }), /htu does not match/],
    ["htu of another host", async () => dpopProof(await dpopKey(), { htu: "https://evil.test/oauth2/token" }), /htu does not match/],
    ["htu with http instead of https", async () => dpopProof(await dpopKey(), { htu: "http://issuer.test/oauth2/token" }), /htu does not match/],
    ["no iat", async () => dpopProof(await dpopKey(), { iat: undefined }), /iat is missing/],
    ["iat 5 minutes old", async () => dpopProof(await dpopKey(), { iat: nowSeconds() - 300 }), /too far in the past/],
    ["iat 5 minutes ahead", async () => dpopProof(await dpopKey(), { iat: nowSeconds() + 300 }), /too far in the future/],
  ];

  for (const [name, makeProof, description] of cases) {
    it(`refuses a proof with ${name}, and the client assertion stays unused`, async () => {
      const client = await registerKeyClient("ES256");
      const assertion = await keyAssertion(client);
      await expectInvalidProof(await tokenWithDpop(assertion, await makeProof()), description);
      // Proof checks run before the assertion's jti is consumed: the same assertion still works.
      expect((await tokenWithDpop(assertion, await dpopProof(await dpopKey()))).status).toBe(200);
    });
  }

  it("refuses two DPoP headers", async () => {
    const client = await registerKeyClient("ES256");
    const key = await dpopKey();
    await expectInvalidProof(await tokenWithDpop(await keyAssertion(client), [await dpopProof(key), await dpopProof(key)]), /more than one DPoP header/);
  });

  it("refuses a replayed proof, even with a fresh client assertion", async () => {
    const client = await registerKeyClient("ES256");
    const proof = await dpopProof(await dpopKey());
    expect((await tokenWithDpop(await keyAssertion(client), proof)).status).toBe(200);
    await expectInvalidProof(await tokenWithDpop(await keyAssertion(client), proof), /already been used/);
  });

  it("does not burn the proof when client authentication fails", async () => {
    const client = await registerKeyClient("ES256");
    const proof = await dpopProof(await dpopKey());
    await expectOAuthError(await tokenWithDpop(await keyAssertion(client, { aud: "https://elsewhere.test" }), proof), 401, "invalid_client");
    expect((await tokenWithDpop(await keyAssertion(client), proof)).status).toBe(200);
  });

  it("requires a proof from a client registered with dpop_bound_access_tokens", async () => {
    const client = await registerKeyClient("ES256", { dpop_bound_access_tokens: true });
    const assertion = await keyAssertion(client);
    await expectInvalidProof(await tokenWithAssertion(assertion), /dpop_bound_access_tokens: send a DPoP proof/);
    const res = await tokenWithDpop(assertion, await dpopProof(await dpopKey()));
    expect(res.status).toBe(200);
    expect((await res.json<any>()).token_type).toBe("DPoP");
  });

  it("gives every failure its own description", async () => {
    expect(new Set(ALL_DPOP_DESCRIPTIONS).size).toBe(ALL_DPOP_DESCRIPTIONS.length);
  });
});

describe("DPoP nonces (RFC 9449 §8) with DPOP_NONCE=required", () => {
  const required = { DPOP_NONCE: "required" };
  const tokenForm = async (client: Awaited<ReturnType<typeof registerKeyClient>>) => ({
    grant_type: "client_credentials",
    client_assertion_type: JWT_BEARER,
    client_assertion: await keyAssertion(client),
  });

  it("answers use_dpop_nonce with a DPoP-Nonce header, then accepts the nonce", async () => {
    const client = await registerKeyClient("ES256");
    const key = await dpopKey();
    const form = await tokenForm(client);
    const first = await postForm(form, { DPoP: await dpopProof(key) }, TOKEN_URL, required);
    const body = await expectOAuthError(first, 400, "use_dpop_nonce");
    expect(body.error_description).toMatch(/requires a DPoP nonce/);
    const nonce = first.headers.get("DPoP-Nonce");
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // The assertion was not consumed by the nonce challenge: the client retries with it.
    const second = await postForm(form, { DPoP: await dpopProof(key, { nonce: nonce! }) }, TOKEN_URL, required);
    expect(second.status).toBe(200);
    expect((await second.json<any>()).token_type).toBe("DPoP");
    expect(second.headers.get("DPoP-Nonce")).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it("answers use_dpop_nonce for a nonce the server did not issue", async () => {
    const client = await registerKeyClient("ES256");
    const res = await postForm(await tokenForm(client), { DPoP: await dpopProof(await dpopKey(), { nonce: "made-up-nonce" }) }, TOKEN_URL, required);
    const body = await expectOAuthError(res, 400, "use_dpop_nonce");
    expect(body.error_description).toMatch(/invalid or expired/);
    expect(res.headers.get("DPoP-Nonce")).not.toBeNull();
  });

  it("still lets Bearer requests through (nonces apply to DPoP proofs only)", async () => {
    const client = await registerKeyClient("ES256");
    const res = await postForm(await tokenForm(client), {}, TOKEN_URL, required);
    expect(res.status).toBe(200);
    expect((await res.json<any>()).token_type).toBe("Bearer");
  });

  it("ignores nonces when DPOP_NONCE is off (the default)", async () => {
    expect(env.DPOP_NONCE).toBe("off");
    const client = await registerKeyClient("ES256");
    const res = await tokenWithDpop(await keyAssertion(client), await dpopProof(await dpopKey(), { nonce: "anything" }));
    expect(res.status).toBe(200);
  });
});

describe("DPoP in the metadata", () => {
  it("lists dpop_signing_alg_values_supported (asymmetric only)", async () => {
    const meta = await (await callWorker("/.well-known/oauth-authorization-server")).json<any>();
    expect(meta.issuer).toBe(ISSUER);
    expect(meta.dpop_signing_alg_values_supported).toContain("ES256");
    expect(meta.dpop_signing_alg_values_supported).not.toContain("HS256");
  });
});
