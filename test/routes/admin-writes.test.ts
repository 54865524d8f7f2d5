import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admin,
  ADMIN_TOKEN,
  callWorker,
  expectOAuthError,
  keyAssertion,
  type KeyClient,
  registerClient,
  registerKeyClient,
  registerSecretClient,
  tokenWithAssertion,
  uniqueId,
} from "../helpers.js";
import { clientKey } from "../../src/stores/kv-keys.js";

async function publicJwk(alg = "ES256", kid = `k-${crypto.randomUUID().slice(0, 8)}`) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, privateKey, kid };
}

afterEach(() => vi.restoreAllMocks());

describe("admin API: per-client keys", () => {
  it("adds a key beside the current one, both verify, and the removed one stops", async () => {
    const client = await registerKeyClient("ES256");
    const next = await publicJwk();
    const added = await admin("POST", `/admin/clients/${client.clientId}/keys`, next.jwk);
    expect(added.status).toBe(201);
    expect((await added.json<any>()).jwks.keys.map((k: any) => k.kid)).toEqual([client.kid, next.kid]);

    const nextClient: KeyClient = { ...client, privateKey: next.privateKey, kid: next.kid };
    expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(nextClient))).status).toBe(200);

    const removed = await admin("DELETE", `/admin/clients/${client.clientId}/keys/${client.kid}`);
    expect(removed.status).toBe(200);
    expect((await removed.json<any>()).jwks.keys.map((k: any) => k.kid)).toEqual([next.kid]);
    const body = await expectOAuthError(await tokenWithAssertion(await keyAssertion(client)), 401, "invalid_client");
    expect(body.error_description).toMatch(/no registered key/);
    expect((await tokenWithAssertion(await keyAssertion(nextClient))).status).toBe(200);
  });

  it("refuses to remove the last key, an unknown kid, a duplicate kid and private key material", async () => {
    const client = await registerKeyClient("ES256");
    await expectOAuthError(await admin("DELETE", `/admin/clients/${client.clientId}/keys/${client.kid}`), 409, "conflict");
    await expectOAuthError(await admin("DELETE", `/admin/clients/${client.clientId}/keys/nope`), 404, "not_found");
    await expectOAuthError(await admin("POST", `/admin/clients/${client.clientId}/keys`, client.publicJwk), 409, "conflict");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const priv = await admin("POST", `/admin/clients/${client.clientId}/keys`, { ...(await exportJWK(privateKey)), kid: "p1" });
    expect((await expectOAuthError(priv, 400, "invalid_client_metadata")).error_description).toMatch(/^d: .*private key material/);
    const { jwk } = await publicJwk();
    const { kid: _kid, ...noKid } = jwk;
    expect((await expectOAuthError(await admin("POST", `/admin/clients/${client.clientId}/keys`, noKid), 400, "invalid_client_metadata")).error_description).toMatch(/^kid:/);
  });

  it("refuses a key that cannot verify the registered alg, and keys for secret or jwks_uri clients", async () => {
    const client = await registerKeyClient("ES256", { token_endpoint_auth_signing_alg: "ES256" });
    const rsa = await publicJwk("PS256");
    const res = await admin("POST", `/admin/clients/${client.clientId}/keys`, rsa.jwk);
    expect((await expectOAuthError(res, 400, "invalid_client_metadata")).error_description).toMatch(/^jwk: .*ES256/);

    const secret = await registerSecretClient("client_secret_basic");
    await expectOAuthError(await admin("POST", `/admin/clients/${secret.clientId}/keys`, (await publicJwk()).jwk), 400, "invalid_client_metadata");

    const remote = await registerClient({ client_id: uniqueId("remote"), jwks_uri: "https://keys.example/jwks.json" });
    const body = await expectOAuthError(await admin("POST", `/admin/clients/${remote.client_id}/keys`, (await publicJwk()).jwk), 400, "invalid_client_metadata");
    expect(body.error_description).toMatch(/^jwks_uri:/);
    await expectOAuthError(await admin("POST", "/admin/clients/nobody/keys", (await publicJwk()).jwk), 404, "not_found");
  });
});

describe("admin API: no lost writes", () => {
  it("keeps every one of 10 concurrent key additions and a concurrent disable", async () => {
    const client = await registerKeyClient("ES256");
    const keys = await Promise.all(Array.from({ length: 10 }, (_, i) => publicJwk("ES256", `parallel-${i}`)));
    const responses = await Promise.all([
      ...keys.map(({ jwk }) => admin("POST", `/admin/clients/${client.clientId}/keys`, jwk)),
      admin("PATCH", `/admin/clients/${client.clientId}`, { disabled: true }),
      admin("PATCH", `/admin/clients/${client.clientId}`, { client_name: "renamed concurrently" }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([...keys.map(() => 201), 200, 200]);

    const expectedKids = [client.kid, ...keys.map((k) => k.kid)].sort();
    const record = await (await admin("GET", `/admin/clients/${client.clientId}`)).json<any>();
    expect(record.jwks.keys.map((k: any) => k.kid).sort()).toEqual(expectedKids);
    expect(record).toMatchObject({ disabled: true, client_name: "renamed concurrently" });
    // KV, the token endpoint's read path, holds the same final record.
    const stored = JSON.parse((await env.CLIENTS.get(clientKey(client.clientId)))!);
    expect(stored.jwks.keys.map((k: any) => k.kid).sort()).toEqual(expectedKids);
    expect(stored.disabled).toBe(true);
    await expectOAuthError(await tokenWithAssertion(await keyAssertion(client)), 401, "invalid_client");
  });

  it("serializes concurrent create of one client_id: exactly one wins", async () => {
    const clientId = uniqueId("race");
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => admin("POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "client_secret_basic" })),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
  });

  it("keeps a deleted client deleted, and allows re-creating it", async () => {
    const { clientId } = await registerSecretClient("client_secret_post");
    expect((await admin("DELETE", `/admin/clients/${clientId}`)).status).toBe(204);
    await expectOAuthError(await admin("GET", `/admin/clients/${clientId}`), 404, "not_found");
    await expectOAuthError(await admin("DELETE", `/admin/clients/${clientId}`), 404, "not_found");
    expect(await env.CLIENTS.get(clientKey(clientId))).toBeNull();
    const again = await admin("POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "client_secret_post" });
    expect(again.status).toBe(201);
  });
});

describe("admin API: audit fields and audit log", () => {
  it("sets created_at/updated_at and logs one line per change without secrets", async () => {
    const log = vi.spyOn(console, "log");
    const info = await registerClient({ client_id: uniqueId("audit"), token_endpoint_auth_method: "client_secret_basic", scope: "read" });
    expect(info.created_at).toBe(info.updated_at);
    const rotated = await (await admin("POST", `/admin/clients/${info.client_id}/secret`)).json<any>();
    await admin("PATCH", `/admin/clients/${info.client_id}`, { scope: "read write" });
    await admin("DELETE", `/admin/clients/${info.client_id}`);

    const lines = log.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('"audit"'));
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => e.audit)).toEqual(["client_created", "client_secret_rotated", "client_updated", "client_deleted"]);
    expect(events.every((e) => e.client_id === info.client_id && typeof e.at === "string")).toBe(true);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    expect(events[1].changed).toEqual(["client_secret_previous_expires_at", "client_secret_previous_sealed", "client_secret_sealed"]);
    expect(events[2].changed).toEqual(["scope"]);
    for (const line of lines) {
      expect(line).not.toContain(info.client_secret);
      expect(line).not.toContain(rotated.client_secret);
    }
  });

  it("logs the kid of added and removed keys", async () => {
    const client = await registerKeyClient("ES256");
    const next = await publicJwk();
    const log = vi.spyOn(console, "log");
    await admin("POST", `/admin/clients/${client.clientId}/keys`, next.jwk);
    await admin("DELETE", `/admin/clients/${client.clientId}/keys/${client.kid}`);
    const events = log.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('"audit"')).map((l) => JSON.parse(l));
    expect(events).toMatchObject([
      { audit: "client_key_added", kid: next.kid, changed: ["jwks"] },
      { audit: "client_key_removed", kid: client.kid, changed: ["jwks"] },
    ]);
  });
});

describe("admin API: listing", () => {
  it("never fails with a 5xx on a cursor it did not issue", async () => {
    // Local KV answers an empty page; deployed KV refuses the cursor, which becomes 400 invalid_request.
    const res = await admin("GET", "/admin/clients?cursor=not-a-real-cursor&limit=0");
    expect([200, 400]).toContain(res.status);
  });
});

describe("admin API: jwks_uri at registration", () => {
  it("accepts https, refuses http and loopback outside local dev", async () => {
    expect((await admin("POST", "/admin/clients", { client_id: uniqueId("uri"), jwks_uri: "https://keys.example/jwks.json" })).status).toBe(201);
    for (const uri of ["http://keys.example/jwks.json", "http://127.0.0.1:9999/jwks.json", "https://localhost/jwks.json", "ftp://keys.example/jwks"]) {
      const body = await expectOAuthError(await admin("POST", "/admin/clients", { jwks_uri: uri }), 400, "invalid_client_metadata");
      expect(body.error_description).toMatch(/^jwks_uri: must (be an https:\/\/ URL|not name localhost)/);
    }
  });

  it("accepts an http loopback jwks_uri in local dev (loopback host, no SIGNING_KEYS or CLIENT_SECRET_KEY, ISSUER unset)", async () => {
    const res = await callWorker(
      "http://127.0.0.1/admin/clients",
      { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ client_id: uniqueId("local-uri"), jwks_uri: "http://127.0.0.1:9999/jwks.json" }) },
      { SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, ISSUER: undefined },
    );
    expect(res.status).toBe(201);
  });
});
