/**
 * The JWT bearer grant's index (SPEC §13, stores/jwt-bearer-index.ts): the client's writer of
 * record keeps one KV key per (issuer, client) whose credential allows the grant, so a grant
 * request lists one issuer's clients instead of every client.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { jwtBearerIssuerPrefix } from "../../src/stores/kv-keys.js";
import { JwtBearerIndex } from "../../src/stores/jwt-bearer-index.js";
import { fakeIssuer } from "../support/fake-issuers.js";
import { admin, registerClient, uniqueId } from "../support/helpers.js";

async function trusted(): Promise<string> {
  const issuer = `https://${uniqueId("idx")}.example`;
  const key = await fakeIssuer("ES256");
  expect((await admin("POST", "/admin/trusted-issuers", { issuer, jwks: { keys: [key.publicJwk] }, shared: false })).status).toBe(201);
  return issuer;
}

/** The client ids under `issuer`'s prefix, straight from KV. */
async function indexed(issuer: string): Promise<string[]> {
  const prefix = await jwtBearerIssuerPrefix(issuer);
  return (await env.CLIENTS.list({ prefix })).keys.map((k) => k.name.slice(prefix.length)).sort();
}

describe("the writer of record keeps the index", () => {
  it("adds a key for each issuer of a jwt_bearer credential, none for client-assertion-only ones; drops it on PATCH and DELETE", async () => {
    const [a, b] = [await trusted(), await trusted()];
    const clientId = uniqueId("c");
    await registerClient({
      client_id: clientId,
      federated_credentials: [
        { name: "grant", issuer: a, subject: "s", grants: ["jwt_bearer"] },
        { name: "assertion", issuer: b, subject: "s" },
      ],
    });
    expect([await indexed(a), await indexed(b)]).toEqual([[clientId], []]);
    expect((await admin("PATCH", `/admin/clients/${clientId}`, { federated_credentials: [{ name: "assertion", issuer: b, subject: "s", grants: ["client_assertion", "jwt_bearer"] }] })).status).toBe(200);
    expect([await indexed(a), await indexed(b)]).toEqual([[], [clientId]]);
    expect((await admin("DELETE", `/admin/clients/${clientId}`)).status).toBe(204);
    expect(await indexed(b)).toEqual([]);
  });

  it("lists an issuer's clients through a per-isolate cache that a local change clears", async () => {
    const issuer = await trusted();
    let clock = 0;
    const index = new JwtBearerIndex(env.CLIENTS, () => clock);
    expect(await index.clientsFor(issuer)).toEqual([]);
    const clientId = uniqueId("c");
    await registerClient({ client_id: clientId, federated_credentials: [{ name: "g", issuer, subject: "s", grants: ["jwt_bearer"] }] });
    // The admin call ran in this isolate: its writer cleared the listings here.
    expect(await index.clientsFor(issuer)).toEqual([clientId]);
    clock += 1;
    expect(await new JwtBearerIndex(env.CLIENTS, () => clock).clientsFor(issuer)).toEqual([clientId]);
  });
});

describe("reading the index", () => {
  it("an expired listing is listed again once: requests meanwhile keep the stale one", async () => {
    let now = 1_000_000;
    let lists = 0;
    const kv = new Proxy(env.CLIENTS, {
      get(target, name) {
        if (name === "list") return (options: KVNamespaceListOptions) => (lists++, target.list(options));
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const index = new JwtBearerIndex(kv, () => now);
    const issuer = `https://${uniqueId("idx-read")}.example`;
    await index.clientsFor(issuer);
    expect(lists).toBe(1);
    now += 11_000; // past the 10 s cache
    await Promise.all([index.clientsFor(issuer), index.clientsFor(issuer), index.clientsFor(issuer)]);
    expect(lists).toBe(2);
  });
});
