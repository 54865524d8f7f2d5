/**
 * SPEC §3 rule 10: single use survives purges. A row is kept until its expiry (rounded up to a
 * whole second) plus a grace of at least 60 s, so a presentation that passed its claim checks
 * against a `now` taken at request start can never find its first use already purged. The clock
 * is injected and moved across the boundary.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ExpiringKeys, PURGE_GRACE_SECONDS } from "../../src/stores/expiring-keys.js";
import type { ReplayGuard } from "../../src/stores/replay-guard.js";

describe("ExpiringKeys purge", () => {
  it("keeps a key for its expiry rounded up plus the grace, and purges it after", async () => {
    expect(PURGE_GRACE_SECONDS).toBeGreaterThanOrEqual(60);
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("expiring-keys-test")) as DurableObjectStub<ReplayGuard>;
    await runInDurableObject(stub, async (_instance: ReplayGuard, state) => {
      // A DPoP proof's acceptable-until (iat + window + skew) may be fractional; an assertion's exp + skew
      // may have just passed when the purge runs, while its request took `now` before it did.
      const start = Math.floor(Date.now() / 1000);
      const clock = { ms: start * 1000 + 900 };
      const keys = new ExpiringKeys(state, "used", () => clock.ms);
      await keys.open();
      const expiresAt = start - 0.5;
      expect(keys.add("k", expiresAt)).toBe(true);

      keys.purge();
      expect(keys.add("k", expiresAt), "purged right after expiry").toBe(false);

      clock.ms = (start + PURGE_GRACE_SECONDS) * 1000; // exactly at ceil(exp) + grace: still kept
      keys.purge();
      expect(keys.add("k", expiresAt), "purged at the grace boundary").toBe(false);

      clock.ms = (start + PURGE_GRACE_SECONDS + 1) * 1000 + 1; // past it: purged
      keys.purge();
      expect(keys.add("k", expiresAt)).toBe(true);
    });
  });
});
