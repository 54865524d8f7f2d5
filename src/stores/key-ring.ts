/**
 * The key-ring Durable Object (SPEC §12, SIGNING_KEY_ROTATION = "auto"): one object per Worker
 * holds the service's own signing keys and decides every transition with the rules of
 * core/key-ring.ts. Private keys are generated here and stored only sealed (stores/key-ring-seal.ts);
 * isolates receive sealed keys and open the one that signs.
 *
 * It advances on its own: an alarm at the next instant the ring must act (a successor to generate
 * when the last key starts signing, a key to drop after its retain time), with the Cron Trigger
 * (src/index.ts `scheduled`) as the backstop that re-arms it. The schedule comes with every call
 * from the isolates' validated settings and is stored for the alarm, so a changed schedule applies
 * from the next call on. Calls are serialized: a generation awaits WebCrypto, which would otherwise
 * let a second call in.
 */
import { DurableObject } from "cloudflare:workers";
import { requireSecret } from "../config.js";
import { nextRingEventAt, ringAt, ringSnapshot, rotateRing, type KeyRingSchedule, type RingKey, type RingKeyMaterial, type RingSnapshot } from "../core/key-ring.js";
import { devMaterialFrom } from "./dev-secrets.js";
import { loadKeyRingSeal } from "./key-ring-seal.js";
import { callObject } from "./shards.js";
import { generateSigningJwk, toPublicJwk } from "./signing-keys.js";

/**
 * Which secret seals the ring's private keys: CLIENT_SECRET_KEY, or in local dev the generated one
 * (src/local-dev.ts decides; a deployment's ring is another object and never uses local material).
 */
export type RingSealing = "CLIENT_SECRET_KEY" | "local-dev";

export interface RingConfig {
  readonly schedule: KeyRingSchedule;
  readonly sealing: RingSealing;
}

/** The emergency rotation's outcome. */
export interface RingRotation {
  readonly snapshot: RingSnapshot;
  /** The new key, and the instant it signs from (every isolate switches then). */
  readonly kid: string;
  readonly signs_from: number;
}

interface StoredRing {
  readonly sealing: RingSealing;
  readonly schedule: KeyRingSchedule;
  readonly keys: readonly RingKey[];
}

const STORAGE_KEY = "ring";
/** The deployment's ring and local dev's: separate objects, so neither can use the other's secret. */
export const KEY_RING_OBJECT: Record<RingSealing, string> = { CLIENT_SECRET_KEY: "signing-key-ring", "local-dev": "signing-key-ring-local-dev" };
/** Every signing key the ring generates. */
const RING_KEY_ALG = "ES256";

export class SigningKeyRing extends DurableObject<Env> {
  #queue: Promise<unknown> = Promise.resolve();

  /** RPC: the ring now (created on the first call), as a snapshot an isolate may cache. */
  async snapshot(config: RingConfig): Promise<RingSnapshot> {
    return await this.#serial(async () => (await this.#advance(config, true))!.snapshot);
  }

  /** RPC: the emergency rotation (core/key-ring.ts rotateRing). */
  async rotate(config: RingConfig, removePrevious: boolean): Promise<RingRotation> {
    return await this.#serial(async () => {
      const { ring, now } = (await this.#advance(config, true))!;
      const fresh = await this.#generate(ring.sealing);
      const keys = rotateRing(ring.keys, now, ring.schedule, fresh, removePrevious);
      await this.#save(ring, keys, now);
      return { snapshot: ringSnapshot(keys, now, ring.schedule), kid: fresh.kid, signs_from: now + ring.schedule.cacheSeconds };
    });
  }

  /** RPC (the Cron Trigger): advance an existing ring with `schedule` and re-arm its alarm. */
  async tick(schedule: KeyRingSchedule): Promise<void> {
    await this.#serial(async () => {
      const stored = await this.ctx.storage.get<StoredRing>(STORAGE_KEY);
      if (stored !== undefined) await this.#advance({ schedule, sealing: stored.sealing }, false);
    });
  }

  override async alarm(): Promise<void> {
    await this.#serial(async () => {
      const stored = await this.ctx.storage.get<StoredRing>(STORAGE_KEY);
      if (stored !== undefined) await this.#advance(stored, false);
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The stored ring brought to now (a successor generated, old keys dropped), saved, alarm set. */
  async #advance(config: RingConfig, create: boolean): Promise<{ ring: StoredRing; now: number; snapshot: RingSnapshot } | undefined> {
    const stored = await this.ctx.storage.get<StoredRing>(STORAGE_KEY);
    if (stored === undefined && !create) return undefined;
    if (stored !== undefined && stored.sealing !== config.sealing) throw new Error(`this key ring is sealed under ${stored.sealing}, not ${config.sealing}`);
    const ring: StoredRing = { sealing: config.sealing, schedule: config.schedule, keys: stored?.keys ?? [] };
    const now = Math.floor(Date.now() / 1000);
    const keys = await ringAt(ring.keys, now, ring.schedule, () => this.#generate(ring.sealing));
    const saved = await this.#save(ring, keys, now, stored);
    return { ring: saved, now, snapshot: ringSnapshot(keys, now, ring.schedule) };
  }

  async #save(ring: StoredRing, keys: readonly RingKey[], now: number, before: StoredRing | undefined = ring): Promise<StoredRing> {
    const next: StoredRing = { ...ring, keys };
    if (JSON.stringify(next) !== JSON.stringify(before)) {
      await this.ctx.storage.put(STORAGE_KEY, next);
      logChanges(before?.keys ?? [], keys);
    }
    const eventAt = nextRingEventAt(keys, now);
    const alarmMs = eventAt === undefined ? null : eventAt * 1000;
    if ((await this.ctx.storage.getAlarm()) !== alarmMs) {
      if (alarmMs === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(alarmMs);
    }
    return next;
  }

  /** A new ES256 key: its public half in clear, its private half sealed at once. */
  async #generate(sealing: RingSealing): Promise<RingKeyMaterial> {
    const seal = await loadKeyRingSeal(await this.#sealingSecret(sealing));
    const jwk = await generateSigningJwk(RING_KEY_ALG);
    const kid = jwk.kid!;
    return { kid, alg: RING_KEY_ALG, public_jwk: toPublicJwk(jwk), sealed_private_jwk: await seal.seal(kid, jwk) };
  }

  async #sealingSecret(sealing: RingSealing): Promise<string> {
    return sealing === "CLIENT_SECRET_KEY" ? requireSecret(this.env, "CLIENT_SECRET_KEY") : (await devMaterialFrom(this.env.DEV_SECRETS)).clientSecretKey;
  }
}

/** One audit line per key the ring added or dropped (times, never key material). */
function logChanges(before: readonly RingKey[], after: readonly RingKey[]): void {
  const at = new Date().toISOString();
  const kept = new Set(after.map((key) => key.kid));
  const had = new Map(before.map((key) => [key.kid, key]));
  for (const key of after) {
    const old = had.get(key.kid);
    const times = { published_at: key.published_at, signs_from: key.signs_from, signs_until: key.signs_until, unpublished_at: key.unpublished_at };
    if (old === undefined) console.log(JSON.stringify({ audit: "signing_key_created", kid: key.kid, ...times, at }));
    else if (old.signs_until !== key.signs_until || old.unpublished_at !== key.unpublished_at) console.log(JSON.stringify({ audit: "signing_key_rescheduled", kid: key.kid, ...times, at }));
  }
  for (const key of before) if (!kept.has(key.kid)) console.log(JSON.stringify({ audit: "signing_key_removed", kid: key.kid, at }));
}

/** What the rest of the Worker asks of the key ring. */
export interface KeyRingStore {
  /** @throws OAuthError 503 `key_ring_unavailable` when the ring cannot be reached. */
  snapshot(): Promise<RingSnapshot>;
  /** @throws OAuthError 503 `key_ring_unavailable` when the ring cannot be reached. */
  rotate(removePrevious: boolean): Promise<RingRotation>;
}

/** The ring of `config.sealing` over the `SIGNING_KEY_RING` namespace. */
export function keyRingStore(namespace: DurableObjectNamespace<SigningKeyRing>, config: RingConfig): KeyRingStore {
  const target = { namespace, name: KEY_RING_OBJECT[config.sealing], unavailable: "key_ring_unavailable" } as const;
  return {
    snapshot: () => callObject(target, (stub) => stub.snapshot(config)),
    rotate: (removePrevious) => callObject(target, (stub) => stub.rotate(config, removePrevious)),
  };
}

/** The Cron Trigger's backstop: advance the deployment's ring, if it exists, and re-arm its alarm. */
export function tickKeyRing(namespace: DurableObjectNamespace<SigningKeyRing>, schedule: KeyRingSchedule): Promise<void> {
  return namespace.get(namespace.idFromName(KEY_RING_OBJECT.CLIENT_SECRET_KEY)).tick(schedule);
}
