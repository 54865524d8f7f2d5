/**
 * SPEC §5 and §8: local-dev conveniences switch on only for loopback hosts: plain `wrangler dev`
 * (no ISSUER, no secrets) answers as one issuer there, and the same env anywhere else is a
 * deployment missing its settings (503 naming ISSUER). The Worker is called directly with a
 * changed `env` (as `wrangler dev` without secrets would run).
 */
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { callWorker, formInit, ISSUER, JWT_BEARER, keyAssertion, registerKeyClient, TOKEN_URL } from "../support/helpers.js";
import { parseCurl } from "../support/raw.js";

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
