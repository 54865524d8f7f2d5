/**
 * The SigningKeyRing Durable Object (src/stores/key-ring.ts) in workerd, with real storage, real
 * alarms and real time: private keys stored only sealed, the alarm rotating the ring with no call
 * arriving (real short periods), the emergency rotation, the cron backstop re-arming a lost alarm,
 * and the two sealing secrets kept apart.
 */
import { createExecutionContext, createScheduledController, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.js";
import { jwksMaxAgeFor } from "../../src/config.js";
import { RING_CACHE_MAX_SECONDS, signingKeysAt, type KeyRingSchedule, type RingKey } from "../../src/core/key-ring.js";
import { loadKeyRingSeal } from "../../src/stores/key-ring-seal.js";
import { KEY_RING_OBJECT, type RingConfig, type SigningKeyRing } from "../../src/stores/key-ring.js";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };

const schedule = (lifetime: number, publishAhead: number, retain: number): KeyRingSchedule => ({
  lifetimeSeconds: lifetime,
  publishAheadSeconds: publishAhead,
  retainSeconds: retain,
  cacheSeconds: Math.min(RING_CACHE_MAX_SECONDS, jwksMaxAgeFor(publishAhead)),
});
const DEFAULTS: RingConfig = { schedule: schedule(30 * 86_400, 2 * 86_400, 2 * 86_400), sealing: "CLIENT_SECRET_KEY" };

const freshRing = () => env.SIGNING_KEY_RING.get(env.SIGNING_KEY_RING.newUniqueId());
const stored = (stub: DurableObjectStub<SigningKeyRing>) =>
  runInDurableObject(stub, async (_ring: SigningKeyRing, state) => ({
    ring: await state.storage.get<{ keys: RingKey[]; sealing: string }>("ring"),
    alarm: await state.storage.getAlarm(),
  }));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SigningKeyRing", () => {
  it("creates a ring on first use: one key signs at once, its successor is published ahead; private keys stored only sealed", async () => {
    const stub = freshRing();
    const before = nowSeconds();
    const snapshot = await stub.snapshot(DEFAULTS);
    const [first, next] = snapshot.keys;
    expect(snapshot.keys).toHaveLength(2);
    expect(first!.signs_from).toBeGreaterThanOrEqual(before);
    expect(first!.published_at).toBe(first!.signs_from);
    expect(next!.signs_from).toBe(first!.signs_until);
    expect(next!.signs_from - next!.published_at).toBe(2 * 86_400);
    expect(snapshot.valid_until - snapshot.taken_at).toBe(RING_CACHE_MAX_SECONDS);

    const { ring, alarm } = await stored(stub);
    expect(ring!.keys).toEqual(snapshot.keys);
    // The alarm is set for the next thing the ring must do: schedule a successor when `next` starts signing.
    expect(alarm).toBe(next!.signs_from * 1000);
    const seal = await loadKeyRingSeal(testSecrets.CLIENT_SECRET_KEY);
    for (const key of ring!.keys) {
      expect(JSON.stringify(key)).not.toMatch(/"d":/);
      expect(key.public_jwk).not.toHaveProperty("d");
      const opened = await seal.open(key.kid, key.sealed_private_jwk);
      expect(opened).toMatchObject({ kid: key.kid, x: key.public_jwk.x, y: key.public_jwk.y });
      expect(typeof opened.d).toBe("string");
      // Bound to its kid, and to CLIENT_SECRET_KEY.
      await expect(seal.open("another-kid", key.sealed_private_jwk)).rejects.toThrow();
      await expect((await loadKeyRingSeal("another-secret-0123456789abcdefghijklmnopqr")).open(key.kid, key.sealed_private_jwk)).rejects.toThrow();
    }
    // A second read returns the same ring.
    expect((await stub.snapshot(DEFAULTS)).keys.map((k) => k.kid)).toEqual(snapshot.keys.map((k) => k.kid));
  });

  it("rotates on its own: with real short periods the alarm schedules successors and drops old keys while no call arrives", async () => {
    // 4 s signing, published 2 s ahead, retained 2 s; the ring's cache time is then 1 s.
    const config: RingConfig = { schedule: schedule(4, 2, 2), sealing: "CLIENT_SECRET_KEY" };
    const stub = freshRing();
    const created = await stub.snapshot(config);
    const [k0, k1] = created.keys;
    // No call to the object from here on: only its alarms run.
    await sleep((k1!.signs_from + 3.5 - Date.now() / 1000) * 1000);
    const { ring, alarm } = await stored(stub);
    const now = nowSeconds();
    const kids = ring!.keys.map((k) => k.kid);
    expect(kids).not.toContain(k0!.kid); // dropped at k1.signs_from + retain
    expect(kids.slice(0, 2)).toEqual([k1!.kid, expect.any(String)]);
    const k2 = ring!.keys[1]!;
    expect(k2.signs_from).toBe(k1!.signs_until); // scheduled on time by the alarm at k1.signs_from
    expect(k2.signs_from - k2.published_at).toBe(2);
    expect(signingKeysAt(ring!.keys, now)).toHaveLength(1);
    expect(alarm).not.toBeNull();
  }, 20_000);

  it("the emergency rotation: a new key signs after the cache time, the previous one stays published for the retain time or is removed", async () => {
    const stub = freshRing();
    const before = await stub.snapshot(DEFAULTS);
    const rotation = await stub.rotate(DEFAULTS, false);
    const now = rotation.signs_from - RING_CACHE_MAX_SECONDS;
    const byKid = new Map(rotation.snapshot.keys.map((k) => [k.kid, k]));
    expect(byKid.get(rotation.kid)).toMatchObject({ published_at: now, signs_from: rotation.signs_from });
    expect(byKid.get(before.keys[0]!.kid)).toMatchObject({ signs_until: rotation.signs_from, unpublished_at: rotation.signs_from + 2 * 86_400 });
    // The pending successor (not published yet) never will be; the new key's own successor comes when it signs.
    expect(byKid.has(before.keys[1]!.kid)).toBe(false);
    expect(rotation.snapshot.keys).toHaveLength(2);

    const removal = await stub.rotate(DEFAULTS, true);
    const unpublished = removal.snapshot.keys.filter((k) => k.kid !== removal.kid).map((k) => k.unpublished_at);
    expect(new Set(unpublished)).toEqual(new Set([removal.signs_from]));
  });

  it("keeps the two sealing secrets apart: a ring sealed under one refuses calls for the other", async () => {
    const stub = freshRing();
    await stub.snapshot(DEFAULTS);
    const refused = await stub.snapshot({ ...DEFAULTS, sealing: "local-dev" }).then(
      () => undefined,
      (err: unknown) => String(err),
    );
    expect(refused).toMatch(/sealed under CLIENT_SECRET_KEY/);
    // Local dev's ring seals under the generated CLIENT_SECRET_KEY of the DevSecrets object.
    const local = freshRing();
    const snapshot = await local.snapshot({ ...DEFAULTS, sealing: "local-dev" });
    const devKey = (await env.DEV_SECRETS.get(env.DEV_SECRETS.idFromName("local-dev")).material()).clientSecretKey;
    const key = snapshot.keys[0]!;
    await expect((await loadKeyRingSeal(devKey)).open(key.kid, key.sealed_private_jwk)).resolves.toMatchObject({ kid: key.kid });
    await expect((await loadKeyRingSeal(testSecrets.CLIENT_SECRET_KEY)).open(key.kid, key.sealed_private_jwk)).rejects.toThrow();
  });

  it("the Cron Trigger re-arms a lost alarm of the deployment's ring, and creates no ring", async () => {
    const auto = { ...env, SIGNING_KEY_ROTATION: "auto" } as Env;
    const ring = env.SIGNING_KEY_RING.get(env.SIGNING_KEY_RING.idFromName(KEY_RING_OBJECT.CLIENT_SECRET_KEY));
    const run = async (bindings: Env) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), bindings, ctx);
      await waitOnExecutionContext(ctx);
    };
    await run(auto);
    expect((await stored(ring)).ring).toBeUndefined();

    await ring.snapshot(DEFAULTS);
    await runInDurableObject(ring, (_ring: SigningKeyRing, state) => state.storage.deleteAlarm());
    expect((await stored(ring)).alarm).toBeNull();
    await run(env); // manual: the cron does nothing
    expect((await stored(ring)).alarm).toBeNull();
    await run(auto);
    expect((await stored(ring)).alarm).not.toBeNull();
  });
});
