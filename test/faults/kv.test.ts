/**
 * Faults: Workers KV (the client registry) fails. A read that throws is an outage — 503
 * `temporarily_unavailable` — never `invalid_client` (that would tell a client its credentials
 * are wrong) and never a 500. The same holds for the admin API's reads, writes and listings,
 * and for a stored record that cannot be parsed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, callWorker, JWT_BEARER, keyAssertion, postForm, registerKeyClient, registerSecretClient, TOKEN_URL } from "../helpers.js";
import { captureWorkerLogs, expectUnavailable, faultyKv } from "./fault-support.js";
import { clientKey } from "../../src/stores/kv-keys.js";

const logs = captureWorkerLogs();

function adminCall(overrides: Record<string, unknown>, method: string, path: string, body?: unknown) {
  return callWorker(
    path,
    {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    },
    overrides,
  );
}

describe("faults: KV get throws on the token endpoint", () => {
  it("private_key_jwt: 503, not invalid_client, and the assertion is not burned", async () => {
    const client = await registerKeyClient("ES256");
    const assertion = await keyAssertion(client);
    const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion };
    logs.clear();
    const body = await expectUnavailable(await postForm(form, {}, TOKEN_URL, { CLIENTS: faultyKv() }));
    expect(body.error_description).toMatch(/client registry/);
    expect(logs.lines().some((l) => l.includes("client_store_unavailable"))).toBe(true);
    expect((await postForm(form)).status).toBe(200);
  });

  it("client_secret_basic: 503 without WWW-Authenticate (the credentials were not judged)", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    const res = await postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa(`${clientId}:${secret}`)}` }, TOKEN_URL, { CLIENTS: faultyKv() });
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
    await expectUnavailable(res);
    logs.lines().forEach((line) => expect(line).not.toContain(secret));
  });

  it("client_secret_post and the OAuth Toolkit path: 503", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = { grant_type: "client_credentials", client_id: clientId, client_secret: secret };
    await expectUnavailable(await postForm(form, {}, "/auth/oauth/v2/token", { CLIENTS: faultyKv() }));
  });

  it("a get that throws synchronously (not a rejected promise) is the same outage", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const kv = faultyKv({
      get: () => {
        throw new Error("KV GET failed: 500 Internal Server Error");
      },
    });
    await expectUnavailable(await postForm({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }, {}, TOKEN_URL, { CLIENTS: kv }));
  });

  it("a stored record that is not valid JSON, or not a client record, is an outage too, not a 500", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const client = await registerKeyClient("ES256");
    const stored = JSON.parse((await env.CLIENTS.get(clientKey(client.clientId)))!);
    const corrupt = ['{"client_id": "truncated', "null", "[]", "42", "{}", JSON.stringify({ ...stored, grant_types: "client_credentials" }), JSON.stringify({ ...stored, jwks: { keys: null } })];
    for (const value of corrupt) {
      const kv = faultyKv({ get: async () => value });
      await expectUnavailable(await postForm({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }, {}, TOKEN_URL, { CLIENTS: kv }));
      const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
      await expectUnavailable(await postForm(form, {}, TOKEN_URL, { CLIENTS: kv }));
    }
    expect(logs.lines().some((l) => l.includes("client_record_unreadable"))).toBe(true);
  });
});

describe("faults: KV and the client writer fail under the admin API and /jwts", () => {
  // Admin changes go through the RegistryWriter Durable Object (the writer of record), which writes
  // KV from inside the object: the fault a Worker sees is the writer being unreachable.
  const unreachableWriter = () => ({
    idFromName: (name: string) => env.REGISTRY_WRITER.idFromName(name),
    get: () => ({
      read: () => Promise.reject(new Error("writer unreachable (injected fault)")),
      commit: () => Promise.reject(new Error("writer unreachable (injected fault)")),
    }),
  });

  it("create: the writer cannot be reached → 503, not 500, and no client appears", async () => {
    const clientId = `faulty-create-${crypto.randomUUID().slice(0, 8)}`;
    await expectUnavailable(await adminCall({ REGISTRY_WRITER: unreachableWriter() }, "POST", "/admin/clients", { client_id: clientId, token_endpoint_auth_method: "client_secret_post" }));
    expect((await adminCall({}, "GET", `/admin/clients/${clientId}`)).status).toBe(404);
  });

  it("one reason for both record kinds, named after the writer of record: registry_writer_unavailable", async () => {
    logs.clear();
    const client = await expectUnavailable(await adminCall({ REGISTRY_WRITER: unreachableWriter() }, "POST", "/admin/clients", { client_id: `faulty-${crypto.randomUUID().slice(0, 8)}`, token_endpoint_auth_method: "client_secret_post" }));
    expect(client.error_description).toBe("the client registry could not be updated; retry shortly");
    const issuer = await expectUnavailable(await adminCall({ REGISTRY_WRITER: unreachableWriter() }, "POST", "/admin/trusted-issuers", { issuer: "https://faulty.example", jwks_uri: "https://faulty.example/jwks", shared: false }));
    expect(issuer.error_description).toBe("the trusted issuer store could not be updated; retry shortly");
    const reasons = logs.lines().filter((l) => l.includes('"event":"request_failed"')).map((l) => JSON.parse(l).reason);
    expect(reasons).toEqual(["registry_writer_unavailable", "registry_writer_unavailable"]);
  });

  it("read, update, rotate and delete: 503, not 404 and not 500, and nothing changed", async () => {
    const { clientId } = await registerSecretClient("client_secret_basic");
    const writer = unreachableWriter();
    await expectUnavailable(await adminCall({ REGISTRY_WRITER: writer }, "GET", `/admin/clients/${clientId}`));
    await expectUnavailable(await adminCall({ REGISTRY_WRITER: writer }, "PATCH", `/admin/clients/${clientId}`, { disabled: true }));
    await expectUnavailable(await adminCall({ REGISTRY_WRITER: writer }, "POST", `/admin/clients/${clientId}/secret`));
    await expectUnavailable(await adminCall({ REGISTRY_WRITER: writer }, "DELETE", `/admin/clients/${clientId}`));
    const res = await adminCall({}, "GET", `/admin/clients/${clientId}`);
    expect(res.status).toBe(200);
    expect((await res.json<{ disabled: boolean }>()).disabled).toBe(false);
  });

  it("list: 503, not 500", async () => {
    await expectUnavailable(await adminCall({ CLIENTS: faultyKv() }, "GET", "/admin/clients"));
  });

  it("GET /jwts: 503", async () => {
    const { clientId } = await registerSecretClient("client_secret_jwt");
    await expectUnavailable(await callWorker(`/jwts?client_id=${clientId}`, {}, { CLIENTS: faultyKv() }));
  });
});
