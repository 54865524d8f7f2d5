/**
 * GET /admin/clients/:client_id/usage (SPEC §11): exact counts for every client, whichever way it
 * authenticates, counted where the token decision is written, and no extra round trip on the token
 * path of a client without a quota.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.js";
import { HOUR_SECONDS, hourOf, USAGE_HOURS } from "../../src/core/quota.js";
import { admin, expectOAuthError, formInit, keyAssertion, nowSeconds, registerKeyClient, registerSecretClient, TOKEN_URL, tokenWithAssertion, JWT_BEARER } from "../helpers.js";
import { dpopKey, dpopProof, tokenWithDpop } from "../lifecycle-helpers.js";

async function usage(clientId: string): Promise<any> {
  const res = await admin("GET", `/admin/clients/${clientId}/usage`);
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json();
}

const total = (report: any) => report.hours.reduce((sum: number, h: any) => sum + h.issued, 0);

/** A Durable Object namespace that counts the objects the Worker reaches through it. */
function countingNamespace<T extends Rpc.DurableObjectBranded | undefined>(real: DurableObjectNamespace<T>): { namespace: DurableObjectNamespace<T>; calls: () => number } {
  let calls = 0;
  const namespace = {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
      calls++;
      return real.get(id, options);
    },
  } as unknown as DurableObjectNamespace<T>;
  return { namespace, calls: () => calls };
}

describe("GET /admin/clients/:client_id/usage", () => {
  it("answers 24 hours, oldest first, with the current hour's exact count, and no window for a client without a quota", async () => {
    const client = await registerKeyClient("ES256");
    for (let i = 0; i < 4; i++) expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    const report = await usage(client.clientId);
    expect(report.client_id).toBe(client.clientId);
    expect(report.token_quota).toBeNull();
    expect(report.current_window).toBeNull();
    expect(report.hours).toHaveLength(USAGE_HOURS);
    const current = hourOf(nowSeconds());
    expect(report.hours.at(-1).start).toBe(new Date(current * 1000).toISOString());
    expect(report.hours[0].start).toBe(new Date((current - (USAGE_HOURS - 1) * HOUR_SECONDS) * 1000).toISOString());
    expect(total(report)).toBe(4);
  });

  it("counts exactly under concurrency, spread over the client's replay-guard shards", async () => {
    const client = await registerKeyClient("ES256", { replay_guard_shards: 8 });
    const assertions = await Promise.all(Array.from({ length: 40 }, () => keyAssertion(client)));
    const statuses = (await Promise.all(assertions.map((a) => tokenWithAssertion(a)))).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Replays are refused and not counted.
    for (const a of assertions.slice(0, 5)) await expectOAuthError(await tokenWithAssertion(a), 401, "invalid_client");
    expect(total(await usage(client.clientId))).toBe(40);
  });

  it("counts secret clients (no jti: after the response) and DPoP requests; a request refused after its jti was recorded is not counted", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    const basic = { Authorization: `Basic ${btoa(`${clientId}:${secret}`)}` };
    for (let i = 0; i < 3; i++) expect((await tokenAt(formInit({ grant_type: "client_credentials" }, basic))).status).toBe(200);
    expect(total(await usage(clientId))).toBe(3);

    const client = await registerKeyClient("ES256");
    const key = await dpopKey();
    const proof = await dpopProof(key);
    expect((await tokenWithDpop(await keyAssertion(client), proof)).status).toBe(200);
    // A fresh assertion (its jti recorded and counted) with a replayed proof: refused, count taken back.
    expect((await tokenWithDpop(await keyAssertion(client), proof)).status).toBe(400);
    expect(total(await usage(client.clientId))).toBe(1);
  });

  it("keeps the counts of a client's previous replay-guard topology while it is in force", async () => {
    const client = await registerKeyClient("ES256", { replay_guard_shards: 2 });
    for (let i = 0; i < 3; i++) await tokenWithAssertion(await keyAssertion(client));
    await admin("PATCH", `/admin/clients/${client.clientId}`, { replay_guard_shards: 4 });
    for (let i = 0; i < 2; i++) await tokenWithAssertion(await keyAssertion(client));
    expect(total(await usage(client.clientId))).toBe(5);
  });

  it("is 404 for an unknown client and 401 without the admin token", async () => {
    await expectOAuthError(await admin("GET", "/admin/clients/nobody-here/usage"), 404, "not_found");
    await expectOAuthError(await admin("GET", "/admin/clients/nobody-here/usage", undefined, "x".repeat(40)), 401, "invalid_token");
  });
});

describe("what counting costs the token path (SPEC §11: no extra round trip without a quota)", () => {
  it("an assertion client without a quota: one replay-guard call, no counter call", async () => {
    const client = await registerKeyClient("ES256");
    const replay = countingNamespace(env.REPLAY_GUARD);
    const counter = countingNamespace(env.QUOTA_COUNTER);
    const res = await tokenAt(formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) }), { REPLAY_GUARD: replay.namespace, QUOTA_COUNTER: counter.namespace });
    expect(res.status).toBe(200);
    expect(replay.calls()).toBe(1);
    expect(counter.calls()).toBe(0);
  });

  it("a secret client without a quota (no jti): the count is written after the response, never delaying it", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const replay = countingNamespace(env.REPLAY_GUARD);
    // The counter answers only once the test opens the gate: the response must not wait for it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gated = {
      idFromName: (name: string) => env.QUOTA_COUNTER.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.QUOTA_COUNTER.get(id);
        return { count: async (...args: [string, number, number]) => (await gate, stub.count(...args)) };
      },
    };
    const ctx = createExecutionContext();
    const request = new Request(TOKEN_URL, formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }));
    const res = await worker.fetch(request, { ...env, REPLAY_GUARD: replay.namespace, QUOTA_COUNTER: gated } as unknown as Env, ctx);
    expect(res.status).toBe(200);
    expect(replay.calls()).toBe(0);
    expect(total(await usage(clientId))).toBe(0);
    open();
    await waitOnExecutionContext(ctx);
    expect(total(await usage(clientId))).toBe(1);
  });

  it("a quota'd assertion client: the replay guard, then its counter", async () => {
    const client = await registerKeyClient("ES256", { token_quota: { limit: 10, window: 3600 } });
    const replay = countingNamespace(env.REPLAY_GUARD);
    const counter = countingNamespace(env.QUOTA_COUNTER);
    const res = await tokenAt(formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) }), { REPLAY_GUARD: replay.namespace, QUOTA_COUNTER: counter.namespace });
    expect(res.status).toBe(200);
    expect([replay.calls(), counter.calls()]).toEqual([1, 1]);
  });
});

/** One token request with bindings replaced (a fresh isolate's view), waiting for its after-response work. */
async function tokenAt(init: RequestInit, bindings: Record<string, unknown> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(TOKEN_URL, init), { ...env, ...bindings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
