/**
 * edge-token-service/resource against tokens minted by this service: every RFC 9068 check, the
 * issuer discovery and key handling, and the RFC 6750 challenges a resource server sends back.
 */
import { decodeProtectedHeader, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../src/resource/index.js";
import { ISSUER } from "../../support/helpers.js";
import { forgeServerToken } from "../../support/lifecycle.js";
import {
  expectRejected,
  mintToken,
  nowSeconds,
  options,
  registerResourceClient,
  RESOURCE,
  resourceRequest,
  signWith,
  workerFetch,
} from "../../support/resource.js";

describe("verifyAccessToken: a Bearer token of this service", () => {
  it("returns the claims of a token issued for this resource, from a request or the token alone", async () => {
    const client = await registerResourceClient();
    const token = await mintToken(client, { scope: "read" });
    const claims = await verifyAccessToken(resourceRequest(token), options({ scopes: ["read"] }));
    expect(claims).toMatchObject({ iss: ISSUER, sub: client.clientId, client_id: client.clientId, aud: RESOURCE, scope: "read" });
    expect((await verifyAccessToken(token, options())).jti).toBe(claims.jti);
  });

  it("accepts a Node-style headers object and a lower-case scheme", async () => {
    const token = await mintToken(await registerResourceClient());
    const claims = await verifyAccessToken({ method: "GET", url: RESOURCE, headers: { authorization: `bearer ${token}` } }, options());
    expect(claims.aud).toBe(RESOURCE);
  });
});

describe("verifyAccessToken: RFC 9068 §4 checks, one failure each", () => {
  it("typ must be at+jwt (application/at+jwt too)", async () => {
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE }, { typ: "JWT" }), options()), 401, "invalid_token", /typ must be at\+jwt/);
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE }, { typ: undefined }), options()), 401, "invalid_token", /typ must be at\+jwt/);
    await expect(verifyAccessToken(await forgeServerToken({ aud: RESOURCE }, { typ: "application/at+jwt" }), options())).resolves.toBeTruthy();
  });

  it("alg must be one the issuer's metadata lists (ES256 here), checked before any key is looked up", async () => {
    const { privateKey } = await generateKeyPair("ES384");
    const { kid } = decodeProtectedHeader(await forgeServerToken());
    const token = await signWith(privateKey, { alg: "ES384", typ: "at+jwt", kid }, { iss: ISSUER, aud: RESOURCE });
    await expectRejected(verifyAccessToken(token, options()), 401, "invalid_token", /alg is not one the issuer signs with/);
    // An explicit allow-list replaces the metadata's.
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE }), options({ algorithms: ["RS256"] })), 401, "invalid_token", /alg is not one/);
  });

  it("the signature must verify with the issuer's key named by kid", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const { kid } = decodeProtectedHeader(await forgeServerToken());
    const now = nowSeconds();
    const claims = { iss: ISSUER, sub: "x", client_id: "x", aud: RESOURCE, iat: now, exp: now + 60, jti: "j" };
    await expectRejected(verifyAccessToken(await signWith(privateKey, { alg: "ES256", typ: "at+jwt", kid }, claims), options()), 401, "invalid_token", /signature does not verify/);
    await expectRejected(verifyAccessToken(await signWith(privateKey, { alg: "ES256", typ: "at+jwt", kid: "nobody" }, claims), options()), 401, "invalid_token", /no key of the issuer matches/);
  });

  it("iss must be the configured issuer", async () => {
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iss: "https://other.test" }), options()), 401, "invalid_token", /another issuer/);
  });

  it("aud must contain this resource: a token for another resource of the same client is refused", async () => {
    const client = await registerResourceClient();
    const elsewhere = await mintToken(client, { resource: "https://other.example/api" });
    await expectRejected(verifyAccessToken(elsewhere, options()), 401, "invalid_token", /not for this resource/);
    // A resource with several identifiers accepts a token for any of them.
    await expect(verifyAccessToken(elsewhere, options({ audience: [RESOURCE, "https://other.example/api"] }))).resolves.toBeTruthy();
  });

  it("exp: expired beyond the clock skew is refused; within it, accepted", async () => {
    const now = nowSeconds();
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iat: now - 100, exp: now - 30 }), options()), 401, "invalid_token", /expired/);
    await expect(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iat: now - 100, exp: now - 5 }), options())).resolves.toBeTruthy();
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iat: now - 100, exp: now - 5 }), options({ clockSkewSeconds: 0 })), 401, "invalid_token", /expired/);
  });

  it("nbf and iat in the future beyond the skew are refused", async () => {
    const now = nowSeconds();
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, nbf: now + 60 }), options()), 401, "invalid_token", /not valid yet/);
    await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iat: now + 60 }), options()), 401, "invalid_token", /iat is in the future/);
    await expect(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, iat: now + 5, nbf: now + 5 }), options())).resolves.toBeTruthy();
  });

  it("the claims RFC 9068 §2.2 requires must be there", async () => {
    for (const claim of ["sub", "client_id", "jti", "iat", "exp"]) {
      await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, [claim]: undefined }), options()), 401, "invalid_token", new RegExp(`no ${claim} claim`));
    }
  });

  it("sub, client_id and jti must be strings", async () => {
    for (const claim of ["sub", "client_id", "jti"]) {
      await expectRejected(verifyAccessToken(await forgeServerToken({ aud: RESOURCE, [claim]: 42 }), options()), 401, "invalid_token", /lacks a string sub, client_id or jti/);
    }
  });

  it("scopes: every required scope must be granted, else 403 insufficient_scope naming them in the challenge", async () => {
    const token = await mintToken(await registerResourceClient(), { scope: "read" });
    const err = await expectRejected(verifyAccessToken(resourceRequest(token), options({ scopes: ["read", "write"] })), 403, "insufficient_scope", /lacks the scope write/);
    expect(err.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="read write", DPoP scope="read write", algs="/);
  });
});

describe("verifyAccessToken: the request's credentials and the challenge", () => {
  it("no Authorization header: 401 with challenges for both schemes and no error code (RFC 6750 §3.1)", async () => {
    const err = await expectRejected(
      verifyAccessToken(new Request(RESOURCE), options({ realm: "orders", resourceMetadataUrl: "https://api.example/.well-known/oauth-protected-resource/orders" })),
      401,
      null,
    );
    expect(err.wwwAuthenticate).toBe(
      'Bearer realm="orders", resource_metadata="https://api.example/.well-known/oauth-protected-resource/orders", ' +
        'DPoP realm="orders", resource_metadata="https://api.example/.well-known/oauth-protected-resource/orders", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"',
    );
    const res = err.toResponse();
    expect(res.status).toBe(401);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("another scheme, or a token with spaces, is 400 invalid_request", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer a b", "Bearer"]) {
      await expectRejected(verifyAccessToken(new Request(RESOURCE, { headers: { Authorization: authorization } }), options()), 400, "invalid_request");
    }
  });

  it("an invalid token's challenge carries error and description on the scheme used; the response says the same", async () => {
    const err = await expectRejected(verifyAccessToken(resourceRequest("not.a.jwt"), options()), 401, "invalid_token", /not a valid signed JWT/);
    expect(err.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="the access token is not a valid signed JWT", DPoP algs=/);
    expect(await err.toResponse().json()).toEqual({ error: "invalid_token", error_description: "the access token is not a valid signed JWT" });
  });
});

describe("verifyAccessToken: the issuer's metadata and keys", () => {
  it("refuses metadata whose issuer is not exactly the configured one (RFC 8414 §3.3): 503, fail closed", async () => {
    const spoofed = workerFetch(async (url, forward) => {
      if (!url.pathname.startsWith("/.well-known/oauth-authorization-server")) return undefined;
      const metadata = await (await forward()).json<Record<string, unknown>>();
      return Response.json({ ...metadata, issuer: "https://evil.test" });
    });
    const token = await mintToken(await registerResourceClient());
    await expectRejected(verifyAccessToken(token, options({ fetch: spoofed })), 503, "temporarily_unavailable", /names another issuer/);
    // A configured issuer with a trailing slash is another identifier than the metadata's.
    await expectRejected(verifyAccessToken(token, options({ issuer: `${ISSUER}/` })), 503, "temporarily_unavailable", /names another issuer/);
  });

  it("caches metadata and keys; a burst of unknown kids refetches the JWKS at most once per cooldown", async () => {
    const fetchImpl = workerFetch();
    const token = await mintToken(await registerResourceClient());
    const { privateKey } = await generateKeyPair("ES256");
    for (let i = 0; i < 3; i++) await verifyAccessToken(token, options({ fetch: fetchImpl }));
    for (let i = 0; i < 5; i++) {
      const unknown = await signWith(privateKey, { alg: "ES256", typ: "at+jwt", kid: `rotated-${i}` }, { iss: ISSUER, aud: RESOURCE });
      await expectRejected(verifyAccessToken(unknown, options({ fetch: fetchImpl })), 401, "invalid_token", /no key of the issuer matches/);
    }
    expect(fetchImpl.calls.get("/.well-known/oauth-authorization-server")).toBe(1);
    expect(fetchImpl.calls.get("/.well-known/jwks.json")).toBe(1);
  });

  it("refreshes metadata after 10 minutes; a failed refresh keeps the last good metadata, retried after 30 s", async () => {
    let issuerDown = false;
    const fetchImpl = workerFetch((url) => (issuerDown && url.pathname.startsWith("/.well-known/oauth-authorization-server") ? new Response("down", { status: 502 }) : undefined));
    const token = await mintToken(await registerResourceClient());
    const start = nowSeconds();
    const at = (seconds: number) => options({ fetch: fetchImpl, now: () => start + seconds });
    await verifyAccessToken(token, at(0));
    await verifyAccessToken(token, at(599));
    expect(fetchImpl.calls.get("/.well-known/oauth-authorization-server")).toBe(1);
    issuerDown = true;
    await expect(verifyAccessToken(token, at(601))).resolves.toBeTruthy();
    await verifyAccessToken(token, at(620));
    expect(fetchImpl.calls.get("/.well-known/oauth-authorization-server")).toBe(2);
    issuerDown = false;
    await verifyAccessToken(token, at(632));
    expect(fetchImpl.calls.get("/.well-known/oauth-authorization-server")).toBe(3);
  });

  it("an unreachable issuer is 503 temporarily_unavailable, never an accepted token", async () => {
    const down = workerFetch(() => new Response("down", { status: 502 }));
    const token = await mintToken(await registerResourceClient());
    const err = await expectRejected(verifyAccessToken(token, options({ fetch: down })), 503, "temporarily_unavailable", /metadata could not be fetched/);
    expect(err.wwwAuthenticate).toBeUndefined();
    const keysDown = workerFetch((url) => (url.pathname === "/.well-known/jwks.json" ? new Response("down", { status: 502 }) : undefined));
    await expectRejected(verifyAccessToken(token, options({ fetch: keysDown })), 503, "temporarily_unavailable", /keys could not be fetched/);
  });

  it("refuses configurations that cannot be safe, with a TypeError", async () => {
    await expect(verifyAccessToken("x", options({ issuer: "http://issuer.test" }))).rejects.toThrow(TypeError);
    await expect(verifyAccessToken("x", options({ issuer: "https://issuer.test?x=1" }))).rejects.toThrow(/query or fragment/);
    await expect(verifyAccessToken("x", options({ audience: [] }))).rejects.toThrow(/audience/);
  });

  it("plain http only to a host that stays on this machine: not *.localhost, not an IPv4-mapped address (SPEC §8)", async () => {
    for (const issuer of ["http://auth.localhost:8787", "http://[::ffff:127.0.0.1]:8787"]) {
      await expect(verifyAccessToken("x", options({ issuer }))).rejects.toThrow(/http only on a loopback host/);
    }
  });
});
