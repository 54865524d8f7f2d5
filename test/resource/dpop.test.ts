/**
 * edge-token-service/resource's default DPoP replay store (src/resource/dpop.js memoryReplayStore)
 * under pressure (issue 18 item 7): memory stays bounded, expired keys go first, and a valid proof
 * is never refused because the store is full (a full store used to answer every DPoP request 503).
 */
import { describe, expect, it } from "vitest";
import { memoryReplayStore } from "../../src/resource/index.js";

const T0 = 1_800_000_000;

/** A store on a clock the test moves. */
function storeAt(maxEntries: number) {
  const clock = { now: T0 };
  return { clock, store: memoryReplayStore({ maxEntries, now: () => clock.now }) };
}

describe("memoryReplayStore: bounded, never refusing a valid proof", () => {
  it("full of live keys, it still accepts a new proof, and refuses the replays it holds", async () => {
    const { store } = storeAt(3);
    for (const key of ["a", "b", "c"]) expect(await store.consumeOnce(key, T0 + 100)).toBe(true);
    expect(await store.consumeOnce("d", T0 + 120)).toBe(true);
    expect(await store.consumeOnce("e", T0 + 120)).toBe(true);
    expect(await store.consumeOnce("d", T0 + 120)).toBe(false);
    expect(await store.consumeOnce("e", T0 + 120)).toBe(false);
  });

  it("makes room with expired keys first, and only then with the live key that expires soonest", async () => {
    const { clock, store } = storeAt(3);
    await store.consumeOnce("expires-early", T0 + 10);
    await store.consumeOnce("live-1", T0 + 100);
    await store.consumeOnce("live-2", T0 + 200);
    clock.now = T0 + 20;
    expect(await store.consumeOnce("new-1", T0 + 150)).toBe(true);
    // The expired key made room: every live key is still remembered.
    for (const key of ["live-1", "live-2", "new-1"]) expect(await store.consumeOnce(key, T0 + 300)).toBe(false);
    // Full of live keys: the one expiring soonest (live-1) makes room; the others are still refused.
    expect(await store.consumeOnce("new-2", T0 + 180)).toBe(true);
    for (const key of ["live-2", "new-1", "new-2"]) expect(await store.consumeOnce(key, T0 + 300)).toBe(false);
  });

  it("holds at most maxEntries keys however many proofs arrive, and forgets keys once they expire", async () => {
    const { clock, store } = storeAt(100);
    for (let i = 0; i < 10_000; i++) expect(await store.consumeOnce(`k${i}`, T0 + 60 + (i % 50))).toBe(true);
    // The hundred expiring last are the ones kept; to stay bounded, the first ones were let go.
    expect(await store.consumeOnce("k9999", T0 + 200)).toBe(false);
    expect(await store.consumeOnce("k0", T0 + 200)).toBe(true);
    clock.now = T0 + 200;
    expect(await store.consumeOnce("k9999", T0 + 300)).toBe(true);
  });
});
