/**
 * SPEC §7: GET /jwts signs a sample with a client's secret only for a caller who could sign it
 * anyway: the admin token, or that client's own id and secret with HTTP Basic (or the demo client
 * in local dev). Everyone else gets the unsigned claims and the command that signs them, in every
 * SAMPLE_JWT_ROUTE mode.
 */
import { describe, expect, it } from "vitest";
import { admin, ADMIN_TOKEN, callWorker, expectOAuthError, formInit, ISSUER, registerKeyClient, registerSecretClient, uniqueId } from "../../support/helpers.js";
import { parseCurl, putClientRecord } from "../../support/raw.js";
import { loadSecretBox, generateSecretBoxKey } from "../../../src/stores/secret-box.js";

const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

async function sample(url: string, headers: Record<string, string> = {}, overrides?: Record<string, unknown>): Promise<any> {
  const res = overrides ? await callWorker(url, { headers }, overrides) : await callWorker(url, { headers });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
}

describe("GET /jwts signs only for a caller who proved it could sign", () => {
  it("without credentials: the claims, the signing command and a curl with $CLIENT_ASSERTION, never an assertion", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    const body = await sample(`/jwts?client_id=${clientId}`);
    expect(body).not.toHaveProperty("client_assertion");
    expect(body.claims).toMatchObject({ iss: clientId, sub: clientId });
    expect(body.sign_with).toContain(clientId);
    expect(body.curl).toContain("$CLIENT_ASSERTION");
    expect(JSON.stringify(body)).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    // In admin mode the route itself needs the admin token.
    await expectOAuthError(await callWorker(`${ISSUER}/jwts?client_id=${clientId}`, {}, { SAMPLE_JWT_ROUTE: "admin" }), 401, "invalid_token");
  });

  it("in local dev, only the demo client is signed for anyone; another client_secret_jwt client is not", async () => {
    const bare = { ISSUER: undefined, SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, SAMPLE_JWT_ROUTE: undefined };
    expect((await sample("http://127.0.0.1:8787/jwts", {}, bare)).client_assertion).toEqual(expect.any(String));
    const created = await callWorker("http://127.0.0.1:8787/admin/clients", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: uniqueId("local-sj"), token_endpoint_auth_method: "client_secret_jwt" }),
    }, bare);
    const { client_id } = await created.json<any>();
    expect(await sample(`http://127.0.0.1:8787/jwts?client_id=${client_id}`, {}, bare)).not.toHaveProperty("client_assertion");
  });

  it("with the client's own id and secret (HTTP Basic): a signed assertion whose curl works as printed", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const body = await sample(`/jwts?client_id=${clientId}`, { Authorization: basic(clientId, secret) });
    expect(body.client_assertion).toEqual(expect.any(String));
    const { url, form } = parseCurl(body.curl);
    expect((await callWorker(url, formInit(form))).status).toBe(200);
    // Basic alone names the client.
    expect((await sample("/jwts", { Authorization: basic(clientId, secret) })).claims.iss).toBe(clientId);
  });

  it("with the previous secret during a rotation's overlap, as at the token endpoint", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    expect((await admin("POST", `/admin/clients/${clientId}/secret`, { previous_secret_valid_for: 600 })).status).toBe(200);
    const body = await sample(`/jwts?client_id=${clientId}`, { Authorization: basic(clientId, secret) });
    const { url, form } = parseCurl(body.curl);
    expect((await callWorker(url, formInit(form))).status).toBe(200);
  });

  it("a wrong secret, another client's secret, or a client_id that differs from Basic's is refused, not answered unsigned", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    const other = await registerSecretClient("client_secret_jwt");
    const wrong = await callWorker(`/jwts?client_id=${clientId}`, { headers: { Authorization: basic(clientId, other.secret) } });
    expect(wrong.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    await expectOAuthError(wrong, 401, "invalid_client");
    await expectOAuthError(await callWorker(`/jwts?client_id=${clientId}`, { headers: { Authorization: basic(other.clientId, other.secret) } }), 400, "invalid_request");
    await expectOAuthError(await callWorker("/jwts", { headers: { Authorization: basic("no-such-client", other.secret) } }), 401, "invalid_client");
  });

  it("with the admin token: a signed assertion, in on and admin modes", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    for (const SAMPLE_JWT_ROUTE of ["on", "admin"]) {
      const body = await sample(`${ISSUER}/jwts?client_id=${clientId}`, { Authorization: `Bearer ${ADMIN_TOKEN}` }, { SAMPLE_JWT_ROUTE });
      expect(body.client_assertion, SAMPLE_JWT_ROUTE).toEqual(expect.any(String));
    }
    await expectOAuthError(await callWorker(`/jwts?client_id=${clientId}`, { headers: { Authorization: "Bearer wrong-token" } }), 401, "invalid_token");
  });

  it("a sealed secret that cannot be opened (CLIENT_SECRET_KEY changed) is a named 409, never a 500", async () => {
    const clientId = uniqueId("resealed");
    const sealedElsewhere = await (await loadSecretBox(generateSecretBoxKey())).seal(clientId, "x".repeat(64));
    await putClientRecord({ client_id: clientId, token_endpoint_auth_method: "client_secret_jwt", client_secret_sealed: sealedElsewhere });
    const res = await callWorker(`/jwts?client_id=${clientId}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = await expectOAuthError(res, 409, "conflict");
    expect(body.error_description).toMatch(/CLIENT_SECRET_KEY/);
  });

  it("for a private_key_jwt client the printed header's typ is the one the CLI signs with", async () => {
    const client = await registerKeyClient("ES256");
    const body = await sample(`/jwts?client_id=${client.clientId}`);
    expect(body.header).toEqual({ alg: "ES256", typ: "client-authentication+jwt", kid: client.kid });
    expect(body).not.toHaveProperty("client_assertion");
  });
});
