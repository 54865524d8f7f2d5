/**
 * An isolate's copy of the key ring (SPEC §12): the two guards that do not depend on the ring
 * answering at once, which the year-long simulation (test/core/key-ring.test.ts) cannot reach
 * because its ring answers instantly on the same clock.
 */
import { describe, expect, it } from "vitest";
import { OAuthError } from "../../src/core/errors.js";
import { ringAt, ringSnapshot, type KeyRingSchedule, type RingKeyMaterial, type RingSnapshot } from "../../src/core/key-ring.js";
import { loadKeyRingSeal } from "../../src/stores/key-ring-seal.js";
import type { KeyRingStore } from "../../src/stores/key-ring.js";
import { ringSigningKeys } from "../../src/stores/ring-signing-keys.js";
import { generateSigningJwk, toPublicJwk } from "../../src/stores/signing-keys.js";

const SECRET = "ring-signing-keys-test-0123456789abcdefghij";
const DAY = 86_400;
const SCHEDULE: KeyRingSchedule = { lifetimeSeconds: 30 * DAY, publishAheadSeconds: 2 * DAY, retainSeconds: 2 * DAY, cacheSeconds: 10 };
const START = 1_800_000_000;

async function material(): Promise<RingKeyMaterial> {
  const jwk = await generateSigningJwk("ES256");
  return { kid: jwk.kid!, alg: "ES256", public_jwk: toPublicJwk(jwk), sealed_private_jwk: await (await loadKeyRingSeal(SECRET)).seal(jwk.kid!, jwk) };
}

/** Ring keys of a new ring at START, and an isolate over a stub ring whose `snapshot` the test shapes. */
async function isolate(snapshot: (now: () => number, advance: (seconds: number) => void) => Promise<RingSnapshot>) {
  let now = START;
  const keys = await ringAt([], START, SCHEDULE, material);
  const reads: number[] = [];
  const ring: KeyRingStore = {
    snapshot: () => (reads.push(now), snapshot(() => now, (seconds) => (now += seconds))),
    rotate: () => Promise.reject(new Error("not used")),
  };
  const copy = ringSigningKeys({ ring, schedule: SCHEDULE, seal: () => loadKeyRingSeal(SECRET), operatorKeys: async () => undefined, maxTokenLifetimeSeconds: SCHEDULE.retainSeconds - 15, clock: () => now });
  return { copy, keys, reads, tick: (seconds: number) => (now += seconds) };
}

describe("an isolate's copy of the key ring", () => {
  it("a ring read that returns after the horizon of what it read is not used: 503 key_ring_unavailable, no key", async () => {
    let keys: Awaited<ReturnType<typeof isolate>>["keys"] = [];
    const { copy, keys: ringKeys } = await isolate(async (now, advance) => {
      const taken = ringSnapshot(keys, now(), SCHEDULE);
      advance(SCHEDULE.cacheSeconds + 1); // the answer took longer than the snapshot may be used
      return taken;
    });
    keys = ringKeys;
    const failure = await copy.current().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(OAuthError);
    expect((failure as OAuthError).reason).toBe("key_ring_unavailable");
  });

  it("uses a snapshot for the cache time by its own clock, even when the ring says it is valid for longer", async () => {
    let keys: Awaited<ReturnType<typeof isolate>>["keys"] = [];
    const { copy, keys: ringKeys, reads, tick } = await isolate(async (now) => ({ ...ringSnapshot(keys, now(), SCHEDULE), valid_until: now() + 10 * SCHEDULE.cacheSeconds }));
    keys = ringKeys;
    await copy.current();
    tick(SCHEDULE.cacheSeconds - 1);
    await copy.current();
    expect(reads).toEqual([START]);
    tick(1);
    await copy.current();
    expect(reads).toEqual([START, START + SCHEDULE.cacheSeconds]);
  });
});
