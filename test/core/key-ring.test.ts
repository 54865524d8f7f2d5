/**
 * The key ring's rules (src/core/key-ring.ts) and the isolates' ring cache
 * (src/stores/ring-signing-keys.ts) driven by an injected clock through more than a year of
 * rotations, thousands of steps, checking every SPEC §12 invariant at every step:
 *   A. exactly one key signs, the same in every isolate;
 *   B. a key signs only after every isolate has published it for PUBLISH_AHEAD (the ring's first
 *      key and emergency keys excepted: those after the ring's cache time);
 *   C. every token issued and not expired (exp + skew) verifies against the JWKS every isolate
 *      serves now (tokens of keys removed on purpose with remove_previous excepted, after removal);
 *   D. at most three keys published in steady state;
 *   E. no token lives longer than RETAIN − CLOCK_SKEW;
 *   F. without faults, rotations happen exactly on schedule.
 * The ring object is simulated with the same pure functions the SigningKeyRing Durable Object runs
 * (advance on every read and alarm, rotateRing on demand), with alarms late or lost (the cron
 * backstop then advances it), isolates reading at random and keeping their snapshot until its
 * horizon, and real keys: every token is signed by the isolate's real active key, and a sample is
 * verified with jose against the isolate's JWKS.
 */
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { jwksMaxAgeFor } from "../../src/config.js";
import {
  advanceRing,
  keyStateAt,
  nextRingEventAt,
  publishedKeysAt,
  RING_CACHE_MAX_SECONDS,
  ringAt,
  ringNeedsKey,
  ringSnapshot,
  rotateRing,
  signingKeysAt,
  type KeyRingSchedule,
  type RingKey,
  type RingKeyMaterial,
} from "../../src/core/key-ring.js";
import { mintAccessToken } from "../../src/oauth/access-token.js";
import { loadKeyRingSeal } from "../../src/stores/key-ring-seal.js";
import type { KeyRingStore } from "../../src/stores/key-ring.js";
import { ringSigningKeys, type RingSigningKeys } from "../../src/stores/ring-signing-keys.js";
import { generateSigningJwk, toPublicJwk, type SigningKeys } from "../../src/stores/signing-keys.js";

const DAY = 86_400;
const SEAL_SECRET = "key-ring-test-secret-0123456789abcdefghijkl";
const ISSUER = "https://issuer.test";

function schedule(lifetime: number, publishAhead: number, retain: number): KeyRingSchedule {
  return { lifetimeSeconds: lifetime, publishAheadSeconds: publishAhead, retainSeconds: retain, cacheSeconds: Math.min(RING_CACHE_MAX_SECONDS, jwksMaxAgeFor(publishAhead)) };
}

/** Deterministic randomness, so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let kidCounter = 0;
/** Material as the ring generates it (fake: only kid and times matter to the pure rules). */
const fakeMaterial = (): RingKeyMaterial => ({ kid: `k${++kidCounter}`, alg: "ES256", public_jwk: { kty: "EC", kid: `k${kidCounter}` }, sealed_private_jwk: "sealed" });

/** Material as SigningKeyRing#generate makes it: a real ES256 key, its private half sealed. */
async function realMaterial(): Promise<RingKeyMaterial> {
  const seal = await loadKeyRingSeal(SEAL_SECRET);
  const jwk = await generateSigningJwk("ES256");
  return { kid: jwk.kid!, alg: "ES256", public_jwk: toPublicJwk(jwk), sealed_private_jwk: await seal.seal(jwk.kid!, jwk) };
}

describe("key ring rules", () => {
  const s = schedule(30 * DAY, 2 * DAY, 2 * DAY);

  it("a new ring's first key signs at once; its successor is scheduled when it starts signing", () => {
    const t0 = 1_000_000;
    const ring = advanceRing([], t0, s, fakeMaterial());
    expect(ring).toHaveLength(1);
    expect(ring[0]).toMatchObject({ published_at: t0, signs_from: t0, signs_until: t0 + 30 * DAY, unpublished_at: t0 + 32 * DAY });
    expect(ringNeedsKey(ring, t0)).toBe(true);
    const next = advanceRing(ring, t0, s, fakeMaterial());
    expect(next[1]).toMatchObject({ published_at: t0 + 28 * DAY, signs_from: t0 + 30 * DAY, signs_until: t0 + 60 * DAY, unpublished_at: t0 + 62 * DAY });
    expect(ringNeedsKey(next, t0 + 30 * DAY - 1)).toBe(false);
    expect(nextRingEventAt(next, t0)).toBe(t0 + 30 * DAY);
    expect(() => advanceRing(next, t0 + 30 * DAY, s)).toThrow(TypeError);
    expect(keyStateAt(next[1]!, t0)).toBe("next");
    expect(keyStateAt(next[0]!, t0)).toBe("signing");
    expect(keyStateAt(next[0]!, t0 + 30 * DAY)).toBe("retired");
  });

  it("a late successor is published no sooner than the cache time, and the key before keeps signing until it takes over", () => {
    const t0 = 1_000_000;
    const first = advanceRing([], t0, s, fakeMaterial());
    // The alarm that should have generated the successor at t0 comes 29.5 days late.
    const late = t0 + 29.5 * DAY;
    const ring = advanceRing(first, late, s, fakeMaterial());
    expect(ring[1]!.published_at).toBe(late + s.cacheSeconds);
    expect(ring[1]!.signs_from).toBe(late + s.cacheSeconds + 2 * DAY);
    expect(ring[0]!.signs_until).toBe(ring[1]!.signs_from);
    expect(ring[0]!.unpublished_at).toBe(ring[1]!.signs_from + 2 * DAY);
  });

  it("the emergency rotation switches after the cache time; remove_previous unpublishes the earlier keys then", () => {
    const t0 = 1_000_000;
    const ring = advanceRing(advanceRing([], t0, s, fakeMaterial()), t0, s, fakeMaterial());
    const now = t0 + 29 * DAY; // the successor is published, not signing yet
    const kept = rotateRing(ring, now, s, fakeMaterial(), false);
    const switchAt = now + s.cacheSeconds;
    expect(kept.map((k) => [k.signs_from, k.signs_until, k.unpublished_at])).toEqual([
      [t0, switchAt, switchAt + 2 * DAY],
      [ring[1]!.signs_from, ring[1]!.signs_from, switchAt], // dropped: never signs, unpublished at the switch
      [switchAt, switchAt + 30 * DAY, switchAt + 32 * DAY],
    ]);
    const removed = rotateRing(ring, now, s, fakeMaterial(), true);
    expect(removed[0]!.unpublished_at).toBe(switchAt);
    expect(signingKeysAt(removed, switchAt - 1).map((k) => k.kid)).toEqual([ring[0]!.kid]);
    expect(signingKeysAt(removed, switchAt).map((k) => k.kid)).toEqual([removed[2]!.kid]);
    expect(publishedKeysAt(removed, switchAt).map((k) => k.kid)).toEqual([removed[2]!.kid]);
  });

  it("a snapshot is valid for the cache time at most", () => {
    const ring = advanceRing(advanceRing([], 0, s, fakeMaterial()), 0, s, fakeMaterial());
    expect(ringSnapshot(ring, 5, s).valid_until).toBe(5 + s.cacheSeconds);
  });
});

/** The ring Durable Object, simulated: the same sequence as SigningKeyRing (advance on every call). */
class SimulatedRing implements KeyRingStore {
  keys: RingKey[] = [];
  alarmAt: number | undefined;
  constructor(
    readonly schedule: KeyRingSchedule,
    readonly now: () => number,
  ) {}

  async advance(): Promise<void> {
    const now = this.now();
    this.keys = await ringAt(this.keys, now, this.schedule, realMaterial);
    this.alarmAt = nextRingEventAt(this.keys, now);
  }

  async snapshot() {
    await this.advance();
    return ringSnapshot(this.keys, this.now(), this.schedule);
  }

  async rotate(removePrevious: boolean) {
    await this.advance();
    const now = this.now();
    const fresh = await realMaterial();
    this.keys = rotateRing(this.keys, now, this.schedule, fresh, removePrevious);
    this.alarmAt = nextRingEventAt(this.keys, now);
    return { snapshot: ringSnapshot(this.keys, now, this.schedule), kid: fresh.kid, signs_from: now + this.schedule.cacheSeconds };
  }
}

interface Scenario {
  name: string;
  schedule: KeyRingSchedule;
  accessTokenTtl: number;
  skew: number;
  durationSeconds: number;
  /** Longest random step between two instants the simulation looks at (events are visited exactly). */
  maxStepSeconds: number;
  /** Faults: late and lost alarms, failing crons. Emergency rotations: their mean interval, seconds. */
  faults: boolean;
  /** The Cron Trigger's interval in the simulation (the backstop of lost alarms). */
  cronEverySeconds: number;
  emergencyEverySeconds?: number;
  seed: number;
}

interface IssuedToken {
  kid: string;
  exp: number;
  token: string;
}

async function simulate(scenario: Scenario) {
  const { schedule: sched, skew } = scenario;
  const rand = random(scenario.seed);
  const start = 1_800_000_000;
  let now = start;
  const clock = () => now;
  const ring = new SimulatedRing(sched, clock);
  const isolates: RingSigningKeys[] = Array.from({ length: 4 }, () =>
    ringSigningKeys({ ring, schedule: sched, seal: () => loadKeyRingSeal(SEAL_SECRET), operatorKeys: async () => undefined, maxTokenLifetimeSeconds: sched.retainSeconds - skew, clock }),
  );
  const tokens: IssuedToken[] = [];
  /** Kids removed on purpose (remove_previous), from when. */
  const removedFrom = new Map<string, number>();
  /**
   * Kids allowed to sign without PUBLISH_AHEAD: the first key and emergency keys ("a new key signs
   * at once"); they too must be published by every isolate from the instant they sign.
   */
  const exempt = new Map<string, number>();
  /** Since when every isolate looking at the ring has published a kid without a gap. */
  const publishedSince = new Map<string, number>();
  const rotations: Array<{ at: number; kid: string }> = [];
  let lastEmergency = -Infinity;
  let lostAlarmUntil = -Infinity;
  let nextCron = start + scenario.cronEverySeconds;
  let steps = 0;
  let verified = 0;
  let maxPublished = 0;
  let alarmDelay = 0;

  const fail = (what: string) => new Error(`${scenario.name} (seed ${scenario.seed}) at +${now - start} s, step ${steps}: ${what}`);

  // The ring is created by its first use.
  await isolates[0]!.current();
  exempt.set(ring.keys[0]!.kid, 0);
  rotations.push({ at: start, kid: ring.keys[0]!.kid });

  while (now < start + scenario.durationSeconds) {
    // The next instant: a random step, or the next event (a key boundary, an alarm, a cron, a snapshot horizon), whichever first.
    const events = [...ring.keys.flatMap((k) => [k.published_at, k.signs_from, k.signs_until, k.unpublished_at]), ...(ring.alarmAt === undefined ? [] : [ring.alarmAt + alarmDelay]), nextCron];
    const upcoming = events.filter((t) => t > now);
    now = Math.min(now + 1 + Math.floor(rand() * scenario.maxStepSeconds), ...upcoming);
    steps++;

    // The ring acts on its own: the alarm (maybe late, maybe lost), the cron backstop every minute (sometimes failing).
    if (ring.alarmAt !== undefined && now >= ring.alarmAt + alarmDelay && now >= lostAlarmUntil) {
      await ring.advance();
      alarmDelay = scenario.faults ? Math.floor(rand() * 30) : 0;
      if (scenario.faults && rand() < 0.05) lostAlarmUntil = now + Math.floor(rand() * 6 * 3600); // lost: only crons until then
    }
    if (now >= nextCron) {
      if (!scenario.faults || rand() > 0.1) await ring.advance();
      nextCron = now + scenario.cronEverySeconds;
    }
    if (scenario.emergencyEverySeconds !== undefined && rand() < scenario.maxStepSeconds / 2 / scenario.emergencyEverySeconds) {
      const removePrevious = rand() < 0.5;
      const rotation = await ring.rotate(removePrevious);
      exempt.set(rotation.kid, 0);
      lastEmergency = now;
      if (removePrevious) for (const key of ring.keys) if (key.kid !== rotation.kid && !removedFrom.has(key.kid)) removedFrom.set(key.kid, rotation.signs_from);
      // The isolate that served the admin call uses the new ring at once; the others when their snapshot ends.
      isolates[Math.floor(rand() * isolates.length)]!.adopt(rotation.snapshot);
    }

    // The isolates that serve requests at this instant (the rest keep their snapshot, idle).
    const serving: SigningKeys[] = [];
    for (const isolate of isolates) if (rand() < 0.75 || serving.length === 0) serving.push(await isolate.current());
    const published = serving.map((keys) => new Set(keys.publicJwks.keys.map((k) => k.kid!)));
    for (const kid of new Set(published.flatMap((set) => [...set]))) {
      if (published.every((set) => set.has(kid))) publishedSince.set(kid, publishedSince.get(kid) ?? now);
      else publishedSince.delete(kid);
    }
    for (const kid of [...publishedSince.keys()]) if (!published.every((set) => set.has(kid))) publishedSince.delete(kid);

    // A: exactly one key signs, the same everywhere.
    const active = new Set(serving.map((keys) => keys.active.kid));
    if (active.size !== 1) throw fail(`isolates sign with ${[...active].join(", ")}`);
    const kid = [...active][0]!;
    if (signingKeysAt(ring.keys, now).length > 1) throw fail("the ring has two signing keys");
    if (rotations.at(-1)?.kid !== kid) rotations.push({ at: now, kid });
    // B: published ahead long enough, everywhere.
    const since = publishedSince.get(kid);
    const needed = exempt.get(kid) ?? sched.publishAheadSeconds;
    if (since === undefined || now - since < needed) throw fail(`${kid} signs after ${since === undefined ? "no" : now - since} s of publication everywhere (needs ${needed})`);
    // D: at most three published, outside the aftermath of an emergency.
    const count = Math.max(...published.map((set) => set.size));
    if (now - lastEmergency > sched.cacheSeconds + sched.lifetimeSeconds + sched.retainSeconds) {
      if (count > 3) throw fail(`${count} keys published`);
      maxPublished = Math.max(maxPublished, count);
    }

    // Each serving isolate issues a token; a client may ask for a day (E: capped).
    for (const keys of serving) {
      const asked = rand() < 0.5 ? scenario.accessTokenTtl : 1 + Math.floor(rand() * DAY);
      const minted = await mintAccessToken({ issuer: ISSUER, clientId: "c", audience: ISSUER, scopes: [], lifetimeSeconds: asked, now }, keys);
      if (minted.expiresIn > sched.retainSeconds - skew || minted.expiresIn > asked) throw fail(`a token lives ${minted.expiresIn} s`);
      tokens.push({ kid: keys.active.kid, exp: minted.exp, token: minted.token });
    }
    // C: every unexpired token verifies against the JWKS each isolate serves now.
    for (let i = tokens.length - 1; i >= 0; i--) {
      const token = tokens[i]!;
      if (now > token.exp + skew) {
        tokens.splice(i, 1);
        continue;
      }
      const removedAt = removedFrom.get(token.kid);
      if (removedAt !== undefined && now >= removedAt) continue;
      for (const set of published) if (!set.has(token.kid)) throw fail(`a token of ${token.kid} (exp +${token.exp - now} s) does not verify: not in a served JWKS`);
    }
    if (steps % 97 === 0 && tokens.length > 0) {
      const token = tokens[Math.floor(rand() * tokens.length)]!;
      const removedAt = removedFrom.get(token.kid);
      if (removedAt === undefined || now < removedAt) {
        const jwks = createLocalJWKSet(serving[0]!.publicJwks as { keys: never[] });
        await jwtVerify(token.token, jwks, { issuer: ISSUER, currentDate: new Date(Math.min(now, token.exp - 1) * 1000) }).catch((err) => {
          throw fail(`jose refuses a live token of ${token.kid}: ${err}`);
        });
        verified++;
      }
    }
  }
  return { steps, rotations, verified, maxPublished, emergencies: scenario.emergencyEverySeconds !== undefined };
}

describe("the key ring through time (injected clock)", () => {
  const defaults = schedule(30 * DAY, 2 * DAY, 2 * DAY);

  it("defaults, no faults: a year and a month of rotations exactly on schedule, every invariant at every step", async () => {
    const result = await simulate({ name: "defaults", schedule: defaults, accessTokenTtl: 3600, skew: 15, durationSeconds: 400 * DAY, maxStepSeconds: 3 * 3600, faults: false, cronEverySeconds: 4 * 3600, seed: 1 });
    expect(result.steps).toBeGreaterThan(3000);
    expect(result.verified).toBeGreaterThan(20);
    // F: every rotation at the scheduled instant, 30 days apart.
    const gaps = result.rotations.slice(1).map((r, i) => r.at - result.rotations[i]!.at);
    expect(result.rotations.length).toBeGreaterThanOrEqual(13);
    expect(new Set(gaps)).toEqual(new Set([30 * DAY]));
    // With the defaults (publish-ahead + retain < lifetime) the previous and the next key never overlap.
    expect(result.maxPublished).toBe(2);
  });

  it("defaults with late and lost alarms, failing crons and emergency rotations: a year and a month", async () => {
    const result = await simulate({ name: "defaults+faults", schedule: defaults, accessTokenTtl: 3600, skew: 15, durationSeconds: 400 * DAY, maxStepSeconds: 2 * 3600, faults: true, cronEverySeconds: 3 * 3600, emergencyEverySeconds: 40 * DAY, seed: 2 });
    expect(result.steps).toBeGreaterThan(4000);
    expect(result.rotations.length).toBeGreaterThan(13);
  });

  it("minute-long keys (the local demo: 60/20/30 s, TTL 20 s, skew 5 s) with faults and emergencies: hundreds of rotations", async () => {
    const result = await simulate({ name: "local demo", schedule: schedule(60, 20, 30), accessTokenTtl: 20, skew: 5, durationSeconds: 8 * 3600, maxStepSeconds: 9, faults: true, cronEverySeconds: 60, emergencyEverySeconds: 1800, seed: 3 });
    expect(result.rotations.length).toBeGreaterThan(400);
  });

  it("at the limits of the start checks (publish-ahead = lifetime − 1, retain = lifetime): generation pushes the schedule, invariants hold", async () => {
    const limits = await simulate({ name: "limits", schedule: schedule(41, 40, 41), accessTokenTtl: 30, skew: 5, durationSeconds: 4 * 3600, maxStepSeconds: 7, faults: true, cronEverySeconds: 60, emergencyEverySeconds: 3600, seed: 4 });
    expect(limits.maxPublished).toBe(3);
    await simulate({ name: "tiny", schedule: schedule(4, 2, 2), accessTokenTtl: 1, skew: 1, durationSeconds: 3600, maxStepSeconds: 2, faults: true, cronEverySeconds: 60, emergencyEverySeconds: 600, seed: 5 });
  });
});
