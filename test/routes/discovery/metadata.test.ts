/**
 * RFC 8414 metadata, the JWKS and signing-key rotation (SPEC §5). GET /jwts (SPEC §7) is
 * test/routes/jwts/.
 */
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { callWorker, formInit, ISSUER, JWT_BEARER, keyAssertion, registerKeyClient, TOKEN_URL } from "../../support/helpers.js";

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

describe("RFC 8414 metadata", () => {
  it("names the configured issuer exactly and this server's endpoints, methods and algorithms", async () => {
    const res = await callWorker("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
    const meta = await res.json<any>();
    expect(meta.issuer).toBe(ISSUER);
    expect(meta.token_endpoint).toBe(TOKEN_URL);
    expect(meta.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    expect(meta.grant_types_supported).toEqual(["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange"]);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["private_key_jwt", "client_secret_jwt", "client_secret_basic", "client_secret_post"]),
    );
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(["RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519", "HS256", "HS384", "HS512"]),
    );
    expect(meta.token_endpoint_auth_signing_alg_values_supported).not.toContain("none");
    expect(meta.access_token_signing_alg_values_supported).toEqual(["ES256"]);
  });

  it("publishes only public key members in the JWKS", async () => {
    const res = await callWorker("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const { keys } = await res.json<any>();
    expect(keys.map((k: any) => k.kid)).toEqual(["test-signing-1"]);
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    }
  });
});

describe("SIGNING_KEYS with two keys", () => {
  it("publishes both and signs with the first", async () => {
    const fresh = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
    const old = await generateKeyPair("ES256", { extractable: true });
    const signingKeys = JSON.stringify({
      keys: [
        { ...(await exportJWK(fresh.privateKey)), kid: "next-rs256", alg: "RS256" },
        { ...(await exportJWK(old.privateKey)), kid: "old-es256", alg: "ES256" },
      ],
    });
    const overrides = { SIGNING_KEYS: signingKeys };

    const jwks = await (await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, overrides)).json<any>();
    expect(jwks.keys.map((k: any) => k.kid)).toEqual(["next-rs256", "old-es256"]);
    for (const key of jwks.keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    const meta = await (await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, overrides)).json<any>();
    expect(meta.access_token_signing_alg_values_supported).toEqual(expect.arrayContaining(["RS256", "ES256"]));

    const client = await registerKeyClient();
    const form = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const res = await callWorker(TOKEN_URL, form, overrides);
    expect(res.status).toBe(200);
    const { access_token } = await res.json<any>();
    expect(decodeProtectedHeader(access_token)).toMatchObject({ alg: "RS256", kid: "next-rs256", typ: "at+jwt" });
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks), { issuer: ISSUER, typ: "at+jwt" });
    expect(payload.client_id).toBe(client.clientId);
  });
});
