/**
 * SPEC §8: local dev is one mode, decided from the whole configuration. A Worker with its
 * production secrets behaves exactly as on its public host whatever URL it is called with (a
 * service binding's `http://localhost/…`, a gateway that rebuilds URLs, `wrangler dev --ip
 * 0.0.0.0`); without them, on a loopback host, local dev answers as one issuer however it is called.
 */
import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { admin, ADMIN_TOKEN, callWorker, expectOAuthError, formInit, ISSUER, JWT_BEARER, registerSecretClient } from "../helpers.js";
import { parseCurl } from "../support.js";
import { clientKey } from "../../src/stores/kv-keys.js";

const DEMO_CLIENTS = ["demo-client-secret-jwt", "demo-private-key-jwt"];
const LOOPBACK_ORIGINS = ["http://localhost", "http://127.0.0.1", "http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"];
/** Plain `wrangler dev` on a fresh clone: no ISSUER, no secrets, no SAMPLE_JWT_ROUTE. */
const BARE = { ISSUER: undefined, SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, ADMIN_TOKEN: undefined, SAMPLE_JWT_ROUTE: undefined };

/** The admin token a local-dev Worker would generate (the DevSecrets object makes it on first ask). */
async function generatedAdminToken(): Promise<string> {
  return (await env.DEV_SECRETS.get(env.DEV_SECRETS.idFromName("local-dev")).material()).adminToken;
}

describe("a Worker with production secrets, called with a loopback URL", () => {
  // The deployed defaults: SAMPLE_JWT_ROUTE unset (the test config turns it on).
  const deployed = { SAMPLE_JWT_ROUTE: undefined };

  it("behaves as on its public host: its issuer, its keys, no /jwts, no demo clients, no generated admin token", async () => {
    const publicJwks = await (await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, deployed)).json<any>();
    const devToken = await generatedAdminToken();
    for (const origin of LOOPBACK_ORIGINS) {
      const meta = await (await callWorker(`${origin}/.well-known/oauth-authorization-server`, {}, deployed)).json<any>();
      expect(meta.issuer, origin).toBe(ISSUER);
      expect(meta.token_endpoint).toBe(`${ISSUER}/oauth2/token`);
      expect(await (await callWorker(`${origin}/.well-known/jwks.json`, {}, deployed)).json<any>()).toEqual(publicJwks);
      await expectOAuthError(await callWorker(`${origin}/jwts`, {}, deployed), 404, "not_found");
      await expectOAuthError(await callWorker(`${origin}/jwts?client_id=demo-client-secret-jwt`, {}, deployed), 404, "not_found");
      await expectOAuthError(await callWorker(`${origin}/admin/clients`, { headers: { Authorization: `Bearer ${devToken}` } }, deployed), 401, "invalid_token");
      await expectOAuthError(await callWorker(`${origin}/admin/local-dev`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, deployed), 404, "not_found");
      expect((await callWorker(`${origin}/admin/clients`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, deployed)).status).toBe(200);
    }
    for (const id of DEMO_CLIENTS) expect(await env.CLIENTS.get(clientKey(id)), id).toBeNull();
  });

  it("with SAMPLE_JWT_ROUTE=on, /jwts has no default client and never signs for the demo client", async () => {
    await expectOAuthError(await callWorker("http://localhost/jwts", {}), 400, "invalid_request");
    await expectOAuthError(await callWorker("http://127.0.0.1/jwts?client_id=demo-client-secret-jwt", {}), 404, "not_found");
    for (const id of DEMO_CLIENTS) expect(await env.CLIENTS.get(clientKey(id)), id).toBeNull();
  });

  it("a loopback http:// jwks_uri is refused at registration as anywhere else", async () => {
    const res = await callWorker("http://127.0.0.1/admin/clients", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ jwks_uri: "http://127.0.0.1:9999/jwks.json" }),
    });
    expect((await expectOAuthError(res, 400, "invalid_client_metadata")).error_description).toMatch(/^jwks_uri: /);
  });

  it("one secret set is not local dev either: the missing one is named, nothing is generated", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
    const res = await callWorker("http://127.0.0.1/oauth2/token", form, { CLIENT_SECRET_KEY: undefined });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error_description).toContain("CLIENT_SECRET_KEY");
    const keysOnly = await callWorker("http://127.0.0.1/.well-known/jwks.json", {}, { SIGNING_KEYS: undefined, ISSUER: undefined });
    expect(keysOnly.status).toBe(503);
    expect((await keysOnly.json<any>()).error_description).toContain("ISSUER");
  });
});

describe("local dev (loopback host, no SIGNING_KEYS, no CLIENT_SECRET_KEY)", () => {
  it("is one issuer whether called as localhost, 127.0.0.1 or [::1]: a token from one is active at the other", async () => {
    for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"]) {
      const meta = await (await callWorker(`${origin}/.well-known/oauth-authorization-server`, {}, BARE)).json<any>();
      expect(meta.issuer, origin).toBe("http://127.0.0.1:8787");
      expect(meta.token_endpoint).toBe("http://127.0.0.1:8787/oauth2/token");
    }
    const sample = await (await callWorker("http://localhost:8787/jwts", {}, BARE)).json<any>();
    expect(sample.claims.aud).toBe("http://127.0.0.1:8787/oauth2/token");
    const { url, form } = parseCurl(sample.curl);
    const token = await callWorker(url.replace("127.0.0.1", "localhost"), formInit(form), BARE);
    expect(token.status, await token.clone().text()).toBe(200);
    const { access_token } = await token.json<any>();

    // Introspect at the other name, authenticated as the demo client with a fresh signed sample.
    const again = await (await callWorker("http://127.0.0.1:8787/jwts", {}, BARE)).json<any>();
    const introspection = await callWorker(
      "http://127.0.0.1:8787/oauth2/introspect",
      formInit({ client_id: again.claims.iss, client_assertion_type: JWT_BEARER, client_assertion: again.client_assertion, token: access_token }),
      BARE,
    );
    expect(introspection.status, await introspection.clone().text()).toBe(200);
    expect((await introspection.json<any>()).active).toBe(true);
  });

  it("an ADMIN_TOKEN or SAMPLE_JWT_ROUTE --var keeps local dev; the generated admin token then does not work", async () => {
    const token = "a-local-admin-token-of-32-characters";
    const overrides = { ...BARE, ADMIN_TOKEN: token };
    const sample = await (await callWorker("http://127.0.0.1:8787/jwts", {}, overrides)).json<any>();
    expect(sample.client_assertion).toEqual(expect.any(String));
    const listed = await callWorker("http://127.0.0.1:8787/admin/clients", { headers: { Authorization: `Bearer ${token}` } }, overrides);
    expect(listed.status).toBe(200);
    const devToken = await generatedAdminToken();
    await expectOAuthError(await callWorker("http://127.0.0.1:8787/admin/clients", { headers: { Authorization: `Bearer ${devToken}` } }, overrides), 401, "invalid_token");
    await expectOAuthError(await callWorker("http://127.0.0.1:8787/jwts", {}, { ...BARE, SAMPLE_JWT_ROUTE: "off" }), 404, "not_found");
  });

  it("LOCAL_DEV_SIGNING_KEYS replaces the generated signing key in local dev only; a deployment ignores it", async () => {
    // The same key set the test Worker has as SIGNING_KEYS, under the local-dev name.
    const local = { ...BARE, LOCAL_DEV_SIGNING_KEYS: env.SIGNING_KEYS };
    const kids = async (url: string, overrides: Record<string, unknown>) =>
      ((await (await callWorker(url, {}, overrides)).json<any>()).keys as { kid: string }[]).map((k) => k.kid);
    const generated = await kids("http://127.0.0.1:8787/.well-known/jwks.json", BARE);
    expect(generated).not.toContain("test-signing-1");
    expect(await kids("http://127.0.0.1:8787/.well-known/jwks.json", local)).toEqual(["test-signing-1"]);
    // A Worker with its secrets is a deployment: LOCAL_DEV_SIGNING_KEYS is never read there.
    const other = JSON.stringify({ keys: [{ ...JSON.parse(env.SIGNING_KEYS!).keys[0], kid: "not-read" }] });
    expect(await kids("http://127.0.0.1:8787/.well-known/jwks.json", { SAMPLE_JWT_ROUTE: undefined, LOCAL_DEV_SIGNING_KEYS: other })).toEqual(["test-signing-1"]);
  });
});

describe("settings an operator would want checked (SPEC §8)", () => {
  async function expectNamed(url: string, overrides: Record<string, unknown>, setting: string, init: RequestInit = {}): Promise<void> {
    const res = await callWorker(url, init, overrides);
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(JSON.parse(text).error_description).toContain(setting);
  }

  it("ISSUER must be an https:// origin without path, query or fragment", async () => {
    for (const issuer of ["http://issuer.test", "https://issuer.test/tenant", "https://issuer.test?x=1", "https://issuer.test#f", "https://user@issuer.test"]) {
      await expectNamed(`${ISSUER}/.well-known/oauth-authorization-server`, { ISSUER: issuer }, "ISSUER");
    }
  });

  it("ISSUER may be http:// only for a loopback host in local dev", async () => {
    const local = await callWorker("http://127.0.0.1:8787/.well-known/oauth-authorization-server", {}, { ...BARE, ISSUER: "http://localhost:8787" });
    expect((await local.json<any>()).issuer).toBe("http://localhost:8787");
    // The same value on a Worker with its secrets is refused, whatever the request's host.
    await expectNamed("http://127.0.0.1:8787/.well-known/oauth-authorization-server", { ISSUER: "http://localhost:8787" }, "ISSUER");
    await expectNamed("http://127.0.0.1:8787/.well-known/oauth-authorization-server", { ...BARE, ISSUER: "http://issuer.test" }, "ISSUER");
  });

  it("ADMIN_TOKEN must have at least 32 characters", async () => {
    const short = "k3J9xQ2vL7pR4tW8zN1mB6cF0hD5sG2"; // 31
    await expectNamed(`${ISSUER}/admin/clients`, { ADMIN_TOKEN: short }, "ADMIN_TOKEN", { headers: { Authorization: `Bearer ${short}` } });
    const ok = await callWorker(`${ISSUER}/admin/clients`, { headers: { Authorization: `Bearer ${short}x` } }, { ADMIN_TOKEN: `${short}x` });
    expect(ok.status).toBe(200);
  });
});

describe("local dev only for a local issuer; demo clients never outlive it (issue 18)", () => {
  /** A Worker deployed before its secrets were set: a public https ISSUER, no key material, the deployed defaults. */
  const PUBLIC_NO_SECRETS = { SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, ADMIN_TOKEN: undefined, SAMPLE_JWT_ROUTE: undefined };

  it("a public ISSUER without secrets, reached on a loopback URL, is not local dev: nothing generated, nothing unlocked", async () => {
    const devToken = await generatedAdminToken();
    for (const origin of LOOPBACK_ORIGINS) {
      const jwks = await callWorker(`${origin}/.well-known/jwks.json`, {}, PUBLIC_NO_SECRETS);
      expect(jwks.status, origin).toBe(503);
      expect((await jwks.json<any>()).error_description).toContain("SIGNING_KEYS");
      const walkthrough = await callWorker(`${origin}/admin/local-dev`, { headers: { Authorization: `Bearer ${devToken}` } }, PUBLIC_NO_SECRETS);
      expect(walkthrough.status, origin).toBe(503);
      expect((await walkthrough.json<any>()).error_description).toContain("ADMIN_TOKEN");
      await expectOAuthError(await callWorker(`${origin}/jwts`, {}, PUBLIC_NO_SECRETS), 404, "not_found");
    }
    // A loopback ISSUER keeps local dev, as before.
    const local = await callWorker("http://127.0.0.1:8787/admin/local-dev", { headers: { Authorization: `Bearer ${devToken}` } }, { ...PUBLIC_NO_SECRETS, ISSUER: "http://127.0.0.1:8787" });
    expect(local.status).toBe(200);
  });

  it("demo clients left in KV by local dev are refused by a Worker with its secrets", async () => {
    // Local dev writes the demo clients and hands out their credentials.
    const devToken = await generatedAdminToken();
    const walkthrough = await (await callWorker("http://127.0.0.1:8787/admin/local-dev", { headers: { Authorization: `Bearer ${devToken}` } }, BARE)).json<any>();
    const demo = walkthrough.demo_clients.find((c: any) => c.client_id === "demo-private-key-jwt");
    for (const id of DEMO_CLIENTS) expect(await env.CLIENTS.get(clientKey(id)), id).not.toBeNull();
    const key = await importJWK(demo.private_jwk, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: demo.client_id, sub: demo.client_id, aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "ES256", kid: demo.private_jwk.kid })
      .sign(key);
    const form = formInit({ grant_type: "client_credentials", client_id: demo.client_id, client_assertion_type: JWT_BEARER, client_assertion: assertion });
    const refused = await expectOAuthError(await callWorker(`${ISSUER}/oauth2/token`, form), 401, "invalid_client");
    expect(refused.error_description).toBe("client authentication failed: unknown or disabled client");
  });

  it("the demo client ids are reserved: a Worker with its secrets refuses creating them (400 naming client_id), and deletes leftovers", async () => {
    const devToken = await generatedAdminToken();
    expect((await callWorker("http://127.0.0.1:8787/admin/local-dev", { headers: { Authorization: `Bearer ${devToken}` } }, BARE)).status).toBe(200);
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const bodies: Record<string, Record<string, unknown>> = {
      "demo-client-secret-jwt": { client_id: "demo-client-secret-jwt", token_endpoint_auth_method: "client_secret_jwt" },
      "demo-private-key-jwt": { client_id: "demo-private-key-jwt", jwks: { keys: [publicJwk] } },
    };
    for (const id of DEMO_CLIENTS) {
      // A leftover of local dev cannot be changed (it authenticates nobody here)…
      const patched = await expectOAuthError(await admin("PATCH", `/admin/clients/${id}`, { scope: "read" }), 400, "invalid_client_metadata");
      expect(patched.error_description, id).toMatch(/^client_id: .*reserved for local dev/);
      // …only deleted…
      expect((await admin("DELETE", `/admin/clients/${id}`)).status, id).toBe(204);
      // …but not created again: it could never authenticate here.
      const body = await expectOAuthError(await admin("POST", "/admin/clients", bodies[id]), 400, "invalid_client_metadata");
      expect(body.error_description, id).toMatch(/^client_id: .*reserved for local dev/);
      expect((await admin("GET", `/admin/clients/${id}`)).status, id).toBe(404);
    }
  });
});
