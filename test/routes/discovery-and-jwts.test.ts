/**
 * RFC 8414 metadata, the JWKS, signing-key rotation (SPEC §5), and GET /jwts (SPEC §7): the
 * printed curl is run as printed and must get a token.
 */
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  callWorker,
  expectOAuthError,
  formInit,
  ISSUER,
  JWT_BEARER,
  keyAssertion,
  nowSeconds,
  OTK_TOKEN_URL,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
} from "../helpers.js";
import { parseCurl } from "../support.js";

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** HTTP Basic with a client's own id and secret: what makes /jwts sign (SPEC §7). */
const asClient = (clientId: string, secret: string) => ({ headers: { Authorization: `Basic ${btoa(`${clientId}:${encodeURIComponent(secret)}`)}` } });

/** Run a curl printed by /jwts against the Worker, with `$CLIENT_ASSERTION` substituted if given. */
async function runCurl(curl: string, clientAssertion?: string, run = callWorker): Promise<Response> {
  const { url, form } = parseCurl(curl);
  if (form.client_assertion === "$CLIENT_ASSERTION" && clientAssertion !== undefined) form.client_assertion = clientAssertion;
  return run(url, formInit(form));
}

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

describe("GET /jwts", () => {
  it("for a client_secret_jwt client: header, claims, a signed client_assertion and a curl that works as printed", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const before = nowSeconds();
    const res = await callWorker(`/jwts?client_id=${clientId}`, asClient(clientId, secret));
    const after = nowSeconds();
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const sample = await res.json<any>();
    expect(sample.header).toEqual({ alg: "HS256", typ: "client-authentication+jwt" });
    expect(sample.claims).toMatchObject({ iss: clientId, sub: clientId, aud: TOKEN_URL });
    expect(sample.claims.exp).toBeGreaterThanOrEqual(before + 120);
    expect(sample.claims.exp).toBeLessThanOrEqual(after + 120);
    expect(sample.claims.jti).toEqual(expect.any(String));
    expect(sample.curl).toMatch(/^curl /);

    const { url, form } = parseCurl(sample.curl);
    expect(url).toBe(TOKEN_URL);
    expect(form).toMatchObject({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: sample.client_assertion, scope: "read write" });

    const token = await runCurl(sample.curl);
    expect(token.status, await token.clone().text()).toBe(200);
    expect((await token.json<any>()).scope).toBe("read write");
    // The printed assertion is single use like any other.
    await expectOAuthError(await runCurl(sample.curl), 401, "invalid_client");
  });

  it("gives a fresh jti each time", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    const [a, b] = await Promise.all([callWorker(`/jwts?client_id=${clientId}`), callWorker(`/jwts?client_id=${clientId}`)]);
    expect((await a.json<any>()).claims.jti).not.toBe((await b.json<any>()).claims.jti);
  });

  it("for a strict-mode client: aud is the issuer and typ client-authentication+jwt, and the curl works", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt", { audience_mode: "strict" });
    const sample = await (await callWorker(`/jwts?client_id=${clientId}`, asClient(clientId, secret))).json<any>();
    expect(sample.claims.aud).toBe(ISSUER);
    expect(sample.header.typ).toBe("client-authentication+jwt");
    expect((await runCurl(sample.curl)).status).toBe(200);
  });

  it("for the OTK token path: aud and curl use that path", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const sample = await (await callWorker(`/jwts?client_id=${clientId}&token_endpoint=/auth/oauth/v2/token`, asClient(clientId, secret))).json<any>();
    expect(sample.claims.aud).toBe(OTK_TOKEN_URL);
    expect(parseCurl(sample.curl).url).toBe(OTK_TOKEN_URL);
    expect((await runCurl(sample.curl)).status).toBe(200);
  });

  it("for a private_key_jwt client: no client_assertion but a sign_with hint; signing the printed claims works", async () => {
    const client = await registerKeyClient("ES256");
    const sample = await (await callWorker(`/jwts?client_id=${client.clientId}`)).json<any>();
    expect(sample).not.toHaveProperty("client_assertion");
    // The header the printed CLI command signs with.
    expect(sample.header).toEqual({ alg: "ES256", kid: client.kid, typ: "client-authentication+jwt" });
    expect(sample.claims).toMatchObject({ iss: client.clientId, sub: client.clientId, aud: TOKEN_URL });
    expect(sample.sign_with).toContain(client.clientId);
    expect(sample.sign_with).toContain(TOKEN_URL);
    expect(sample.curl).toContain("$CLIENT_ASSERTION");

    const signed = await new SignJWT(sample.claims).setProtectedHeader(sample.header).sign(client.privateKey);
    expect((await runCurl(sample.curl, signed)).status).toBe(200);
  });

  it("refuses unknown clients, clients without assertions, and a missing client_id outside local dev", async () => {
    await expectOAuthError(await callWorker("/jwts?client_id=no-such-client"), 404, "not_found");
    const { clientId } = await registerSecretClient("client_secret_basic");
    await expectOAuthError(await callWorker(`/jwts?client_id=${clientId}`), 400, "invalid_request");
    await expectOAuthError(await callWorker("/jwts"), 400, "invalid_request");
  });

  it("refuses a disabled client instead of printing a curl that cannot work", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt", { disabled: true });
    const body = await expectOAuthError(await callWorker(`/jwts?client_id=${clientId}`), 400, "invalid_request");
    expect(body.error_description).toMatch(/disabled/);
  });

  it("SAMPLE_JWT_ROUTE=off: 404", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    await expectOAuthError(await callWorker(`${ISSUER}/jwts?client_id=${clientId}`, {}, { SAMPLE_JWT_ROUTE: "off" }), 404, "not_found");
  });

  it("SAMPLE_JWT_ROUTE off by default on a deployed (non-loopback) host", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    await expectOAuthError(await callWorker(`${ISSUER}/jwts?client_id=${clientId}`, {}, { SAMPLE_JWT_ROUTE: undefined }), 404, "not_found");
  });

  it("SAMPLE_JWT_ROUTE=admin: 401 without the admin token, the sample with it", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    const url = `${ISSUER}/jwts?client_id=${clientId}`;
    const refused = await callWorker(url, {}, { SAMPLE_JWT_ROUTE: "admin" });
    expect(refused.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    await expectOAuthError(refused, 401, "invalid_token");
    await expectOAuthError(await callWorker(url, { headers: { Authorization: "Bearer wrong" } }, { SAMPLE_JWT_ROUTE: "admin" }), 401, "invalid_token");
    const allowed = await callWorker(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, { SAMPLE_JWT_ROUTE: "admin" });
    expect(allowed.status).toBe(200);
    expect((await allowed.json<any>()).client_assertion).toEqual(expect.any(String));
  });
});
