/**
 * SPEC §5 and §8: local-dev conveniences switch on only for loopback hosts; a deployment missing
 * or misconfiguring a setting answers 503 `temporarily_unavailable` naming it, never a 500.
 * The Worker is called directly with a changed `env` (as `wrangler dev` without secrets would run).
 */
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import { callWorker, formInit, ISSUER, JWT_BEARER, keyAssertion, registerKeyClient, registerSecretClient, TOKEN_URL } from "../helpers.js";
import { parseCurl } from "../support.js";

/** Plain `wrangler dev` on a fresh clone: no ISSUER, no secrets, no SAMPLE_JWT_ROUTE. */
const BARE = { ISSUER: undefined, SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, ADMIN_TOKEN: undefined, SAMPLE_JWT_ROUTE: undefined };
const LOCAL = "http://127.0.0.1:8787";

async function expectUnavailable(res: Response, setting: string, secretValue?: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(503);
  const body = JSON.parse(text);
  expect(body.error).toBe("temporarily_unavailable");
  expect(body.error_description).toContain(setting);
  if (secretValue) expect(text).not.toContain(secretValue);
}

describe("local dev on a loopback host, without ISSUER or secrets", () => {
  it("serves metadata with the request origin as issuer, and a JWKS", async () => {
    const meta = await (await callWorker(`${LOCAL}/.well-known/oauth-authorization-server`, {}, BARE)).json<any>();
    expect(meta.issuer).toBe(LOCAL);
    expect(meta.token_endpoint).toBe(`${LOCAL}/oauth2/token`);
    expect(meta.jwks_uri).toBe(`${LOCAL}/.well-known/jwks.json`);
    const jwks = await (await callWorker(meta.jwks_uri, {}, BARE)).json<any>();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) expect(key).not.toHaveProperty("d");
  });

  it("treats localhost and [::1] as loopback too, as the one issuer http://127.0.0.1:<port>", async () => {
    for (const origin of ["http://localhost:8787", "http://[::1]:8787"]) {
      const res = await callWorker(`${origin}/.well-known/oauth-authorization-server`, {}, BARE);
      expect(res.status).toBe(200);
      expect((await res.json<any>()).issuer).toBe(LOCAL);
    }
  });

  it("GET /jwts with no client_id prints a curl for the demo client that works as printed", async () => {
    const res = await callWorker(`${LOCAL}/jwts`, {}, BARE);
    expect(res.status).toBe(200);
    const sample = await res.json<any>();
    const { url, form } = parseCurl(sample.curl);
    expect(url).toBe(`${LOCAL}/oauth2/token`);
    expect(form.client_id).toBe(sample.claims.iss);

    const token = await callWorker(url, formInit(form), BARE);
    expect(token.status, await token.clone().text()).toBe(200);
    const { access_token } = await token.json<any>();
    const jwks = await (await callWorker(`${LOCAL}/.well-known/jwks.json`, {}, BARE)).json<any>();
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks), { issuer: LOCAL, audience: LOCAL });
    expect(payload.client_id).toBe(sample.claims.iss);
  });

  it("the same env on a non-loopback host refuses with 503 naming ISSUER, on every endpoint", async () => {
    const client = await registerKeyClient();
    const assertion = await keyAssertion(client);
    const requests: [string, RequestInit][] = [
      [`${ISSUER}/.well-known/oauth-authorization-server`, {}],
      [`${ISSUER}/.well-known/jwks.json`, {}],
      [`${ISSUER}/jwts`, {}],
      [`${ISSUER}/admin/clients`, { headers: { Authorization: "Bearer anything" } }],
      [TOKEN_URL, formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion })],
    ];
    for (const [url, init] of requests) await expectUnavailable(await callWorker(url, init, BARE), "ISSUER");
  });
});

describe("a deployment missing a secret names it", () => {
  it("SIGNING_KEYS: metadata, JWKS and the token endpoint answer 503, and the assertion is not burnt", async () => {
    const missing = { SIGNING_KEYS: undefined };
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, missing), "SIGNING_KEYS");
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, missing), "SIGNING_KEYS");

    const client = await registerKeyClient();
    const form = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    await expectUnavailable(await callWorker(TOKEN_URL, form, missing), "SIGNING_KEYS");
    expect((await callWorker(TOKEN_URL, form)).status).toBe(200);
  });

  it("CLIENT_SECRET_KEY: a secret-based client gets 503 naming it, not invalid_client", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
    await expectUnavailable(await callWorker(TOKEN_URL, form, { CLIENT_SECRET_KEY: undefined }), "CLIENT_SECRET_KEY");
  });

  it("ADMIN_TOKEN: the admin API answers 503 naming it", async () => {
    const res = await callWorker(`${ISSUER}/admin/clients`, { headers: { Authorization: "Bearer anything" } }, { ADMIN_TOKEN: undefined });
    await expectUnavailable(res, "ADMIN_TOKEN");
  });

  it("ADMIN_TOKEN that is trivially guessable: 503 naming it, and the guessable token is never accepted (issue 18)", async () => {
    for (const guessable of ["a".repeat(40), "ab".repeat(20), "abcd1234".repeat(5), "abcdefghijklmnopqrstuvwxyz0123456789", "9876543210".repeat(4)]) {
      const res = await callWorker(`${ISSUER}/admin/clients`, { headers: { Authorization: `Bearer ${guessable}` } }, { ADMIN_TOKEN: guessable });
      const text = await res.text();
      expect(res.status, guessable).toBe(503);
      expect(JSON.parse(text).error_description, guessable).toMatch(/ADMIN_TOKEN .*trivially guessable/);
      expect(text).not.toContain(guessable);
    }
  });
});

describe("invalid settings answer 503 naming the setting, never 500", () => {
  const cases: [string, string][] = [
    ["ACCESS_TOKEN_TTL", "soon"],
    ["ACCESS_TOKEN_TTL", "0"],
    ["ACCESS_TOKEN_TTL", "1.5"],
    ["ASSERTION_MAX_LIFETIME", "-300"],
    ["CLOCK_SKEW", "fifteen"],
    ["AUDIENCE_MODE", "lenient"],
    ["SAMPLE_JWT_ROUTE", "maybe"],
    ["ISSUER", "not a url"],
    ["ISSUER", "https://issuer.test/"],
    ["DEFAULT_AUDIENCE", "https://aud.example/#frag"],
    ["REPLAY_GUARD_TIMEOUT_MS", "0"],
  ];
  for (const [setting, value] of cases) {
    it(`${setting}=${JSON.stringify(value)}`, async () => {
      await expectUnavailable(await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, { [setting]: value }), setting);
    });
  }

  it("says what is wrong with the value, in English (src/zod.ts loads zod's locale)", async () => {
    const res = await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, { AUDIENCE_MODE: "lenient" });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error_description).toContain("AUDIENCE_MODE is invalid: Invalid option: expected one of 'compat'|'strict'");
  });

  it("an invalid SIGNING_KEYS names it without echoing the value", async () => {
    const value = `{"keys":[${testSecrets.SIGNING_KEYS}`;
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, { SIGNING_KEYS: value }), "SIGNING_KEYS", value);
    const publicOnly = JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA", kid: "p", alg: "ES256" }] });
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, { SIGNING_KEYS: publicOnly }), "SIGNING_KEYS");
  });

  it("an invalid CLIENT_SECRET_KEY names it without echoing the value", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
    await expectUnavailable(await callWorker(TOKEN_URL, form, { CLIENT_SECRET_KEY: "too-short-key" }), "CLIENT_SECRET_KEY", "too-short-key");
  });
});

describe("/healthz", () => {
  it("answers 200 without secrets, whatever the configuration", async () => {
    for (const overrides of [{}, BARE, { ACCESS_TOKEN_TTL: "soon", SIGNING_KEYS: "{" }]) {
      const res = await callWorker(`${ISSUER}/healthz`, {}, overrides);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: "ok" });
      for (const secret of Object.values(testSecrets)) expect(text).not.toContain(secret);
    }
  });
});
