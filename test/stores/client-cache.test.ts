/**
 * The client registry's in-isolate cache (stores/clients.ts): records are served for
 * RECORD_CACHE_SECONDS; when one expires, one request re-reads KV while the others keep the stale
 * record (never longer than RECORD_REFRESH_GRACE_MS), and a failed re-read is retried by the next
 * request. A counting KV namespace and an injected clock; no real time passes.
 */
import { describe, expect, it } from "vitest";
import { ClientRegistry } from "../../src/stores/clients.js";
import { RECORD_CACHE_SECONDS, RECORD_REFRESH_GRACE_MS } from "../../src/stores/kv-records.js";
import { type ClientRecord } from "../../src/core/client-record.js";

const record = (scope: string): ClientRecord => ({
  client_id: "c1",
  token_endpoint_auth_method: "client_secret_basic",
  scope,
  grant_types: ["client_credentials"],
  resources: [],
  dpop_bound_access_tokens: false,
  disabled: false,
  created_at: 1,
  updated_at: 1,
  replay_guard_shards: 1,
});

/** A KV namespace holding one record whose reads are counted and released by hand. */
function slowKv(initial: ClientRecord) {
  let stored = JSON.stringify(initial);
  let reads = 0;
  let fail = false;
  const pending: (() => void)[] = [];
  const kv = {
    get: (_key: string) => {
      reads++;
      return new Promise<string>((resolve, reject) => pending.push(() => (fail ? reject(new Error("KV down")) : resolve(stored))));
    },
  } as unknown as KVNamespace;
  return {
    kv,
    reads: () => reads,
    store: (r: ClientRecord) => void (stored = JSON.stringify(r)),
    failReads: (value: boolean) => void (fail = value),
    /** Answer every read sent so far. */
    release: async () => {
      for (const answer of pending.splice(0)) answer();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

async function primed() {
  let now = 1_000_000;
  const store = slowKv(record("v1"));
  const registry = new ClientRegistry(store.kv, () => now);
  const first = registry.get("c1");
  await store.release();
  expect((await first)?.scope).toBe("v1");
  return { store, registry, advance: (ms: number) => void (now += ms) };
}

describe("client cache", () => {
  it("serves a record from the cache until it expires", async () => {
    const { store, registry, advance } = await primed();
    advance(RECORD_CACHE_SECONDS * 1000 - 1);
    expect((await registry.get("c1"))?.scope).toBe("v1");
    expect(store.reads()).toBe(1);
  });

  it("after expiry, one request re-reads KV; the others meanwhile get the stale record at once", async () => {
    const { store, registry, advance } = await primed();
    store.store(record("v2"));
    advance(RECORD_CACHE_SECONDS * 1000);
    const refreshing = registry.get("c1");
    const others = await Promise.all(Array.from({ length: 10 }, () => registry.get("c1")));
    expect(others.map((r) => r?.scope)).toEqual(Array(10).fill("v1"));
    expect(store.reads()).toBe(2);
    await store.release();
    expect((await refreshing)?.scope).toBe("v2");
    expect((await registry.get("c1"))?.scope).toBe("v2");
    expect(store.reads()).toBe(2);
  });

  it("a re-read that never answers holds the others for RECORD_REFRESH_GRACE_MS at most", async () => {
    const { store, registry, advance } = await primed();
    advance(RECORD_CACHE_SECONDS * 1000);
    void registry.get("c1"); // never released: a cancelled request
    advance(RECORD_REFRESH_GRACE_MS - 1);
    expect((await registry.get("c1"))?.scope).toBe("v1");
    expect(store.reads()).toBe(2);
    advance(1);
    const retry = registry.get("c1");
    expect(store.reads()).toBe(3);
    await store.release();
    expect((await retry)?.scope).toBe("v1");
  });

  it("a failed re-read is a 503 for that request, and the next request tries again", async () => {
    const { store, registry, advance } = await primed();
    advance(RECORD_CACHE_SECONDS * 1000);
    store.failReads(true);
    const failing = expect(registry.get("c1")).rejects.toMatchObject({ status: 503, error: "temporarily_unavailable" });
    await store.release();
    await failing;
    store.failReads(false);
    const next = registry.get("c1");
    expect(store.reads()).toBe(3);
    await store.release();
    expect((await next)?.scope).toBe("v1");
  });
});
