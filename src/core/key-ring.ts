/**
 * The signing-key ring's rules (SPEC §12), as pure functions of (stored keys, now, schedule): the
 * key-ring Durable Object (stores/key-ring.ts) decides its transitions with them, every isolate
 * computes from them which key signs and which keys are published at an instant, and the
 * year-long clock test (test/core/key-ring.test.ts) runs them without workerd time.
 *
 * A key's life is four instants (seconds): published_at ≤ signs_from < signs_until ≤
 * unpublished_at. It is published in [published_at, unpublished_at) and signs in
 * [signs_from, signs_until). On schedule, key i+1 signs from key i's signs_until, is published
 * SIGNING_KEY_PUBLISH_AHEAD before that, and key i stays published SIGNING_KEY_RETAIN after it.
 *
 * Isolates cache the ring they read for at most `cacheSeconds` (a snapshot's `valid_until`). Every
 * change the ring makes is therefore either already in every snapshot that can still be used (a
 * scheduled transition is an instant written in the keys, computed the same way everywhere) or
 * takes effect only once every older snapshot has expired:
 * - a new key is generated at least `cacheSeconds` before it is published;
 * - the emergency rotation switches keys, and removes the previous ones, `cacheSeconds` after it
 *   was asked for, at one instant for every isolate.
 */
import type { JWK } from "jose";

export interface KeyRingSchedule {
  /** SIGNING_KEY_LIFETIME: how long one key signs. */
  readonly lifetimeSeconds: number;
  /** SIGNING_KEY_PUBLISH_AHEAD: how long a key is published before it signs. */
  readonly publishAheadSeconds: number;
  /** SIGNING_KEY_RETAIN: how long a key stays published after it stopped signing. */
  readonly retainSeconds: number;
  /** How long an isolate may use a ring it read: min(RING_CACHE_MAX_SECONDS, the JWKS max-age). */
  readonly cacheSeconds: number;
}

/** Longest time an isolate uses a ring it read, and so the delay of an emergency rotation. */
export const RING_CACHE_MAX_SECONDS = 10;

/** When a key is published and when it signs (seconds since the epoch). */
export interface RingKeyTimes {
  readonly published_at: number;
  readonly signs_from: number;
  readonly signs_until: number;
  readonly unpublished_at: number;
}

/** What a freshly generated key brings: its public half in clear, its private half sealed. */
export interface RingKeyMaterial {
  readonly kid: string;
  readonly alg: string;
  readonly public_jwk: JWK;
  /** The private JWK sealed under the ring's secret (stores/key-ring-seal.ts); never in clear. */
  readonly sealed_private_jwk: string;
}

export interface RingKey extends RingKeyMaterial, RingKeyTimes {}

/** What an isolate reads from the ring: the keys and until when it may use them. */
export interface RingSnapshot {
  readonly keys: readonly RingKey[];
  /** The ring's clock when the snapshot was taken. */
  readonly taken_at: number;
  /** The snapshot must not be used at or after this instant. */
  readonly valid_until: number;
}

/** SPEC §12 key states, for GET /admin/keys. */
export type RingKeyState = "next" | "signing" | "retired";

const signsAt = (key: RingKeyTimes, now: number) => key.signs_from <= now && now < key.signs_until;
const publishedAt = (key: RingKeyTimes, now: number) => key.published_at <= now && now < key.unpublished_at;
/** A key whose signing interval is empty (dropped by an emergency before it signed) never signs. */
const everSigns = (key: RingKeyTimes) => key.signs_from < key.signs_until;

/** The keys the JWKS lists at `now`. */
export function publishedKeysAt<K extends RingKeyTimes>(keys: readonly K[], now: number): K[] {
  return keys.filter((key) => publishedAt(key, now));
}

/** Every key that signs at `now`: exactly one for a ring this module advanced (the invariant). */
export function signingKeysAt<K extends RingKeyTimes>(keys: readonly K[], now: number): K[] {
  return keys.filter((key) => signsAt(key, now) && publishedAt(key, now));
}

/** The key that signs at `now`, or undefined (then nothing may be signed: fail closed). */
export function signingKeyAt<K extends RingKeyTimes>(keys: readonly K[], now: number): K | undefined {
  const signing = signingKeysAt(keys, now);
  return signing.length === 1 ? signing[0] : undefined;
}

export function keyStateAt(key: RingKeyTimes, now: number): RingKeyState {
  return now < key.signs_from && everSigns(key) ? "next" : signsAt(key, now) ? "signing" : "retired";
}

/** The key that signs last on the ring's schedule (the one a successor follows). */
function lastKey<K extends RingKeyTimes>(keys: readonly K[]): K | undefined {
  return keys.filter(everSigns).reduce<K | undefined>((last, key) => (last === undefined || key.signs_from > last.signs_from ? key : last), undefined);
}

/** Keys still published at or after `now` (the rest can go). */
function live<K extends RingKeyTimes>(keys: readonly K[], now: number): K[] {
  return keys.filter((key) => key.unpublished_at > now);
}

/** Whether `advanceRing` at `now` needs a freshly generated key (a new ring, or a successor). */
export function ringNeedsKey(keys: readonly RingKeyTimes[], now: number): boolean {
  const last = lastKey(live(keys, now));
  return last === undefined || last.signs_from <= now;
}

/**
 * The ring at `now`: keys past their publication dropped, and a successor scheduled for the key
 * that signs last once that key has started signing. A new ring's first key signs at once (no one
 * can have cached anything of a ring that did not exist). A successor is published at
 * `signs_until − publish-ahead` of the key it follows, but never sooner than `cacheSeconds` from
 * now (no snapshot taken before it was generated can still be in use then); when that pushes it
 * back (a late alarm), the key it follows keeps signing, and stays published, until it takes over.
 * @param fresh the material of a generated key, required when `ringNeedsKey(keys, now)`.
 */
export function advanceRing(keys: readonly RingKey[], now: number, schedule: KeyRingSchedule, fresh?: RingKeyMaterial): RingKey[] {
  const ring = live(keys, now);
  if (!ringNeedsKey(ring, now)) return ring;
  if (fresh === undefined) throw new TypeError("advanceRing needs a fresh key");
  const { lifetimeSeconds: lifetime, publishAheadSeconds: ahead, retainSeconds: retain, cacheSeconds } = schedule;
  const last = lastKey(ring);
  if (last === undefined) {
    return [...ring, { ...fresh, published_at: now, signs_from: now, signs_until: now + lifetime, unpublished_at: now + lifetime + retain }];
  }
  const published = Math.max(last.signs_until - ahead, now + cacheSeconds);
  const signs = published + ahead;
  const extended: RingKey = signs > last.signs_until ? { ...last, signs_until: signs, unpublished_at: Math.max(last.unpublished_at, signs + retain) } : last;
  const successor: RingKey = { ...fresh, published_at: published, signs_from: signs, signs_until: signs + lifetime, unpublished_at: signs + lifetime + retain };
  return [...ring.map((key) => (key === last ? extended : key)), successor];
}

/**
 * `advanceRing` as often as it needs a key (twice for a new ring: its first key and a successor),
 * with keys from `generate`.
 */
export async function ringAt(keys: readonly RingKey[], now: number, schedule: KeyRingSchedule, generate: () => Promise<RingKeyMaterial>): Promise<RingKey[]> {
  let ring = advanceRing(keys, now, schedule, ringNeedsKey(keys, now) ? await generate() : undefined);
  while (ringNeedsKey(ring, now)) ring = advanceRing(ring, now, schedule, await generate());
  return ring;
}

/**
 * The emergency rotation (POST /admin/keys/rotate): `fresh` signs from `now + cacheSeconds` — the
 * first instant no isolate can still use a snapshot without it — and the key signing just before
 * stops then. It stays published for the retain time, or with `removePrevious` every earlier key
 * is unpublished at that same instant (tokens they signed stop verifying: the point after a
 * compromise). Keys scheduled to sign later are dropped; they never signed.
 * Call on a ring `advanceRing` brought to `now`.
 */
export function rotateRing(keys: readonly RingKey[], now: number, schedule: KeyRingSchedule, fresh: RingKeyMaterial, removePrevious: boolean): RingKey[] {
  const { lifetimeSeconds: lifetime, retainSeconds: retain } = schedule;
  const switchAt = now + schedule.cacheSeconds;
  const previous = live(keys, now).flatMap((key): RingKey[] => {
    if (key.signs_from >= switchAt) {
      // Never signs; stays published until the switch for isolates that listed it.
      return key.published_at >= switchAt ? [] : [{ ...key, signs_until: key.signs_from, unpublished_at: Math.min(key.unpublished_at, switchAt) }];
    }
    if (key.signs_until > switchAt) {
      // The key that signs just before the switch.
      return [{ ...key, signs_until: switchAt, unpublished_at: removePrevious ? switchAt : switchAt + retain }];
    }
    return [removePrevious ? { ...key, unpublished_at: Math.min(key.unpublished_at, switchAt) } : key];
  });
  const emergency: RingKey = { ...fresh, published_at: now, signs_from: switchAt, signs_until: switchAt + lifetime, unpublished_at: switchAt + lifetime + retain };
  return [...previous, emergency];
}

/** When the ring must act next without being asked: a successor to generate, a key to drop. */
export function nextRingEventAt(keys: readonly RingKeyTimes[], now: number): number | undefined {
  const last = lastKey(live(keys, now));
  const times = [...keys.map((key) => key.unpublished_at), ...(last === undefined ? [] : [last.signs_from])].filter((t) => t > now);
  return times.length === 0 ? undefined : Math.min(...times);
}

/**
 * The snapshot an isolate may use until `valid_until`: at most `cacheSeconds`, and never past the
 * last instant its keys say who signs.
 */
export function ringSnapshot(keys: readonly RingKey[], now: number, schedule: KeyRingSchedule): RingSnapshot {
  const signsUntil = Math.max(now, ...keys.filter(everSigns).map((key) => key.signs_until));
  return { keys, taken_at: now, valid_until: Math.min(now + schedule.cacheSeconds, signsUntil) };
}

/** The next instant after `now` at which the signing key or the published set changes. */
export function nextViewChangeAt(keys: readonly RingKeyTimes[], now: number): number {
  const times = keys.flatMap((key) => [key.published_at, key.signs_from, key.signs_until, key.unpublished_at]).filter((t) => t > now);
  return times.length === 0 ? Infinity : Math.min(...times);
}
