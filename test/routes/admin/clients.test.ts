/**
 * The client management API (SPEC §6): bearer auth, RFC 7591 create/read/update/delete, secret
 * rotation, validation naming the field, pagination, and what changes mean for getting tokens.
 */
import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import {
  admin,
  ADMIN_TOKEN,
  callWorker,
  expectOAuthError,
  keyAssertion,
  postForm,
  registerClient,
  registerKeyClient,
  registerSecretClient,
  tokenWithAssertion,
  uniqueId,
} from "../../support/helpers.js";
import { clientKey } from "../../../src/stores/kv-keys.js";

const basicToken = (clientId: string, secret: string) =>
  postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa(`${clientId}:${secret}`)}` });

async function publicJwk(alg = "ES256") {
  return { ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).publicKey)), kid: "k1" };
}

describe("admin authentication", () => {
  it("refuses a missing or wrong bearer token with 401 and WWW-Authenticate: Bearer", async () => {
    const attempts = [
      callWorker("/admin/clients"),
      admin("GET", "/admin/clients", undefined, "wrong-token"),
      admin("GET", "/admin/clients", undefined, `${ADMIN_TOKEN}x`),
      admin("POST", "/admin/clients", { token_endpoint_auth_method: "client_secret_basic" }, ADMIN_TOKEN.slice(0, -1)),
      callWorker("/admin/clients", { headers: { Authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` } }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
      await expectOAuthError(res, 401, "invalid_token");
    }
  });

  it("a refused create leaves nothing behind", async () => {
    const clientId = uniqueId("refused");
    await admin("POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "client_secret_basic" }, "wrong-token");
    expect((await admin("GET", `/admin/clients/${clientId}`)).status).toBe(404);
  });
});

describe("create", () => {
  it("generates a client_id when none is given (201, Location)", async () => {
    const res = await admin("POST", "/admin/clients", { token_endpoint_auth_method: "client_secret_post", scope: "read" });
    expect(res.status).toBe(201);
    const info = await res.json<any>();
    expect(info.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("Location")).toBe(`/admin/clients/${info.client_id}`);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("keeps a given client_id and refuses it a second time with 409", async () => {
    const clientId = uniqueId("given");
    const first = await admin("POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [await publicJwk()] } });
    expect(first.status).toBe(201);
    expect((await first.json<any>()).client_id).toBe(clientId);
    const again = await admin("POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "client_secret_basic" });
    await expectOAuthError(again, 409, "conflict");
    expect((await (await admin("GET", `/admin/clients/${clientId}`)).json<any>()).token_endpoint_auth_method).toBe("private_key_jwt");
  });

  it("answers the RFC 7591 client information, client_secret only at creation", async () => {
    const clientId = uniqueId("rfc7591");
    const info = await registerClient({ client_id: clientId, client_name: "Billing job", token_endpoint_auth_method: "client_secret_basic", scope: "read write" });
    expect(info).toMatchObject({ client_id: clientId, client_name: "Billing job", token_endpoint_auth_method: "client_secret_basic", scope: "read write", grant_types: ["client_credentials"], client_secret_expires_at: 0 });
    expect(typeof info.client_id_issued_at).toBe("number");
    expect(info.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/); // ≥ 256 bits
    expect(info).not.toHaveProperty("client_secret_sealed");

    const read = await (await admin("GET", `/admin/clients/${clientId}`)).json<any>();
    expect(read).not.toHaveProperty("client_secret");
    expect(read).not.toHaveProperty("client_secret_sealed");
    expect(read.client_id_issued_at).toBe(info.client_id_issued_at);
    // And the secret shown once works.
    expect((await basicToken(clientId, info.client_secret)).status).toBe(200);
  });

  it("issues no secret to a private_key_jwt client", async () => {
    const info = await registerClient({ client_id: uniqueId("nosecret"), jwks: { keys: [await publicJwk()] } });
    expect(info.token_endpoint_auth_method).toBe("private_key_jwt");
    expect(info).not.toHaveProperty("client_secret");
    expect(info).not.toHaveProperty("client_secret_expires_at");
  });

  it("stores the secret encrypted: the KV value never contains it", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const stored = await env.CLIENTS.get(clientKey(clientId));
    expect(stored).not.toBeNull();
    expect(stored).not.toContain(secret);
    expect(JSON.parse(stored!).client_secret_sealed).toEqual(expect.any(String));
  });
});

describe("validation: 400 invalid_client_metadata naming the field", () => {
  const weakRsaJwk = async () => {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const { kty, n, e } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    return { kty, n, e, kid: "weak" };
  };
  const privateJwk = async () => ({ ...(await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey)), kid: "leak" });

  const cases: [string, () => Promise<Record<string, unknown>>, RegExp][] = [
    ["an RSA key under 2048 bits", async () => ({ jwks: { keys: [await weakRsaJwk()] } }), /^jwks\.keys\.0\.n: .*2048/],
    ["private key material in jwks", async () => ({ jwks: { keys: [await privateJwk()] } }), /^jwks\.keys\.0\.d: .*private key material/],
    ["a jwks_uri that is not HTTPS", async () => ({ jwks_uri: "http://keys.example/jwks.json" }), /^jwks_uri: .*https/],
    ["an unknown field", async () => ({ jwks: { keys: [await publicJwk()] }, colour: "blue" }), /colour/],
    ["a malformed scope", async () => ({ jwks: { keys: [await publicJwk()] }, scope: 'read "write"' }), /^scope: /],
    ["a scope with a double space", async () => ({ jwks: { keys: [await publicJwk()] }, scope: "read  write" }), /^scope: /],
    ["a client_id with forbidden characters", async () => ({ client_id: "has space", jwks: { keys: [await publicJwk()] } }), /^client_id: /],
    ["an unknown auth method", async () => ({ token_endpoint_auth_method: "tls_client_auth" }), /^token_endpoint_auth_method: /],
    ["private_key_jwt without keys", async () => ({}), /^jwks: /],
    ["a secret method with keys", async () => ({ token_endpoint_auth_method: "client_secret_post", jwks: { keys: [await publicJwk()] } }), /^jwks: /],
    ["an HMAC alg for private_key_jwt", async () => ({ jwks: { keys: [await publicJwk()] }, token_endpoint_auth_signing_alg: "HS256" }), /^token_endpoint_auth_signing_alg: /],
    ["a relative resource", async () => ({ jwks: { keys: [await publicJwk()] }, resources: ["/api"] }), /^resources\.0: /],
    ["an access_token_ttl out of range", async () => ({ jwks: { keys: [await publicJwk()] }, access_token_ttl: 5 }), /^access_token_ttl: /],
  ];
  for (const [name, metadata, field] of cases) {
    it(`refuses ${name}`, async () => {
      const clientId = uniqueId("invalid");
      const body = await expectOAuthError(await admin("POST", "/admin/clients", { client_id: clientId, ...(await metadata()) }), 400, "invalid_client_metadata");
      expect(body.error_description).toMatch(field);
      expect((await admin("GET", `/admin/clients/${clientId}`)).status).toBe(404);
    });
  }

  it("describes zod's own problems in English, not as a bare \"Invalid input\" (src/zod.ts loads the locale)", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ token_endpoint_auth_method: "tls_client_auth" }, 'token_endpoint_auth_method: Invalid option: expected one of \'private_key_jwt\'|\'client_secret_jwt\'|\'client_secret_basic\'|\'client_secret_post\''],
      [{ client_name: "" }, "client_name: Too small: expected string to have >=1 characters"],
      [{ access_token_ttl: 60.5 }, "access_token_ttl: Invalid input: expected int, received number"],
      [{ disabled: "no" }, "disabled: Invalid input: expected boolean, received string"],
      [{ colour: "blue" }, "body: Unrecognized key: 'colour'"],
    ];
    for (const [metadata, description] of cases) {
      const body = await expectOAuthError(await admin("POST", "/admin/clients", metadata), 400, "invalid_client_metadata");
      expect(body.error_description).toBe(description);
    }
  });

  it("refuses a body that is not JSON", async () => {
    const res = await callWorker("/admin/clients", { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: "{not json" });
    await expectOAuthError(res, 400, "invalid_client_metadata");
    const form = await callWorker("/admin/clients", { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/x-www-form-urlencoded" }, body: "a=b" });
    await expectOAuthError(form, 400, "invalid_client_metadata");
  });
});

describe("list, get, patch, delete", () => {
  it("lists every client exactly once across pages of `limit`, never a secret", async () => {
    const prefix = uniqueId("page");
    const created = new Set<string>();
    for (let i = 0; i < 5; i++) created.add((await registerSecretClient("client_secret_post", { client_id: `${prefix}-${i}` })).clientId);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await admin("GET", `/admin/clients?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      const page = await res.json<any>();
      expect(page.clients.length).toBeLessThanOrEqual(2);
      for (const client of page.clients) {
        expect(client).not.toHaveProperty("client_secret");
        expect(client).not.toHaveProperty("client_secret_sealed");
        expect(client).not.toHaveProperty("client_secret_previous_sealed");
      }
      seen.push(...page.clients.map((c: any) => c.client_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect(cursor).toBeUndefined();
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => id.startsWith(`${prefix}-`)).sort()).toEqual([...created].sort());
  });

  it("gets a client, 404 for an unknown one", async () => {
    const client = await registerKeyClient("ES256", { client_name: "reader" });
    const res = await admin("GET", `/admin/clients/${client.clientId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: client.clientId, client_name: "reader", jwks: { keys: [client.publicJwk] } });
    await expectOAuthError(await admin("GET", "/admin/clients/no-such-client"), 404, "not_found");
  });

  it("patch disabled: the client can no longer get a token; re-enabled it can", async () => {
    const client = await registerKeyClient();
    expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);

    const disabled = await admin("PATCH", `/admin/clients/${client.clientId}`, { disabled: true });
    expect(disabled.status).toBe(200);
    expect((await disabled.json<any>()).disabled).toBe(true);
    await expectOAuthError(await tokenWithAssertion(await keyAssertion(client)), 401, "invalid_client");

    expect((await admin("PATCH", `/admin/clients/${client.clientId}`, { disabled: false })).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
  });

  it("patch changes what tokens get (scope) and refuses bad fields", async () => {
    const client = await registerKeyClient("ES256", { scope: "read write" });
    const patched = await (await admin("PATCH", `/admin/clients/${client.clientId}`, { scope: "read" })).json<any>();
    expect(patched.scope).toBe("read");
    expect(patched.updated_at).toBeGreaterThanOrEqual(patched.created_at);
    await expectOAuthError(await tokenWithAssertion(await keyAssertion(client), { scope: "write" }), 400, "invalid_scope");

    const renamed = await expectOAuthError(await admin("PATCH", `/admin/clients/${client.clientId}`, { client_id: "new-id" }), 400, "invalid_client_metadata");
    expect(renamed.error_description).toMatch(/client_id/);
    const badUri = await expectOAuthError(await admin("PATCH", `/admin/clients/${client.clientId}`, { jwks_uri: "http://insecure.example/jwks" }), 400, "invalid_client_metadata");
    expect(badUri.error_description).toMatch(/^jwks_uri: /);
    await expectOAuthError(await admin("PATCH", "/admin/clients/no-such-client", { disabled: true }), 404, "not_found");
  });

  it("delete: 204, then gone for the API and for the token endpoint", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    expect((await basicToken(clientId, secret)).status).toBe(200);
    const res = await admin("DELETE", `/admin/clients/${clientId}`);
    expect(res.status).toBe(204);
    expect((await admin("GET", `/admin/clients/${clientId}`)).status).toBe(404);
    await expectOAuthError(await basicToken(clientId, secret), 401, "invalid_client");
    expect((await admin("DELETE", `/admin/clients/${clientId}`)).status).toBe(404);
  });
});

describe("secret rotation", () => {
  it("with previous_secret_valid_for 0 the old secret stops working at once, the new one works", async () => {
    const { clientId, secret: oldSecret } = await registerSecretClient("client_secret_basic");
    expect((await basicToken(clientId, oldSecret)).status).toBe(200);

    const res = await admin("POST", `/admin/clients/${clientId}/secret`, { previous_secret_valid_for: 0 });
    expect(res.status).toBe(200);
    const info = await res.json<any>();
    expect(info.client_secret).toEqual(expect.any(String));
    expect(info.client_secret).not.toBe(oldSecret);

    expect(info).not.toHaveProperty("client_secret_previous_expires_at");
    await expectOAuthError(await basicToken(clientId, oldSecret), 401, "invalid_client");
    expect((await basicToken(clientId, info.client_secret)).status).toBe(200);
    expect(await env.CLIENTS.get(clientKey(clientId))).not.toContain(info.client_secret);
  });

  it("refuses to rotate a private_key_jwt client's (non-existent) secret, 404 for an unknown client", async () => {
    const client = await registerKeyClient();
    await expectOAuthError(await admin("POST", `/admin/clients/${client.clientId}/secret`), 400, "invalid_client_metadata");
    await expectOAuthError(await admin("POST", "/admin/clients/no-such-client/secret"), 404, "not_found");
  });
});
