/**
 * Signing keys from the key ring (SPEC §12), as an isolate holds them: the last snapshot it read
 * from the key-ring Durable Object, used only until its validity horizon (core/key-ring.ts: at most
 * the ring's cache time, never past what its keys say), and the `SigningKeys` of the current
 * instant computed from it — recomputed only when the signing key or the published set changes, so
 * a token costs no Durable Object call and no key import. An expired snapshot is never used: the
 * next caller reads the ring again (one read at a time, shared), and fails closed if it cannot.
 *
 * With SIGNING_KEYS also set, its public keys stay published beside the ring's (not signing), so a
 * deployment switches from operator-managed keys without a token that stops verifying.
 */
import { importJWK, type CryptoKey, type JWK } from "jose";
import type { Clock } from "../clock.js";
import { ConfigError } from "../config.js";
import { isAsymmetricAlg, type AsymmetricAlg } from "../core/algorithms.js";
import { OAuthError } from "../core/errors.js";
import { nextViewChangeAt, publishedKeysAt, signingKeyAt, type KeyRingSchedule, type RingKey, type RingSnapshot } from "../core/key-ring.js";
import type { KeyRingSeal } from "./key-ring-seal.js";
import type { KeyRingStore } from "./key-ring.js";
import type { SigningKeys } from "./signing-keys.js";

export interface RingSigningKeysOptions {
  readonly ring: KeyRingStore;
  readonly schedule: KeyRingSchedule;
  /** Opens the ring's sealed private keys (CLIENT_SECRET_KEY). */
  readonly seal: () => Promise<KeyRingSeal>;
  /** SIGNING_KEYS, when set: published, never signing. */
  readonly operatorKeys: () => Promise<SigningKeys | undefined>;
  /** RETAIN − CLOCK_SKEW. */
  readonly maxTokenLifetimeSeconds: number;
  readonly clock: Clock;
}

export interface RingSigningKeys {
  /** The signing key and the published keys at this instant. */
  current(): Promise<SigningKeys>;
  /** Use `snapshot` from now on (one this isolate just received, e.g. after a rotation it asked for). */
  adopt(snapshot: RingSnapshot): void;
}

const MAX_IMPORTED = 16;
/** Longer than a key-ring call may take (stores/shards.ts deadline): a read pending longer is abandoned. */
const READ_STALLED_SECONDS = 5;

export function ringSigningKeys(options: RingSigningKeysOptions): RingSigningKeys {
  let snapshot: { keys: readonly RingKey[]; validUntil: number } | undefined;
  let reading: { promise: Promise<void>; since: number } | undefined;
  let view: { from: number; until: number; keys: Promise<SigningKeys> } | undefined;
  const privateKeys = new Map<string, Promise<CryptoKey>>();
  const publicKeys = new Map<string, Promise<CryptoKey>>();

  const adopt = (next: RingSnapshot, readAt: number) => {
    // Bounded by this isolate's own clock too: the snapshot was taken no earlier than `readAt`.
    snapshot = { keys: next.keys, validUntil: Math.min(next.valid_until, readAt + options.schedule.cacheSeconds) };
    view = undefined;
  };

  async function usableSnapshot(now: number): Promise<{ keys: readonly RingKey[]; validUntil: number }> {
    if (snapshot === undefined || now >= snapshot.validUntil) {
      // A missing or broken CLIENT_SECRET_KEY is reported as such (503 naming it), before the ring is asked.
      await options.seal();
      // One read at a time, shared. A read older than the ring call's own deadline is not waited
      // for: its I/O and its deadline belong to the request that started it, and workerd cancels
      // both if that request is cancelled (its caller went away), so it may never settle.
      if (reading === undefined || now - reading.since > READ_STALLED_SECONDS) {
        const started: { promise: Promise<void>; since: number } = {
          since: now,
          promise: options.ring
            .snapshot()
            .then((next) => adopt(next, now))
            .finally(() => {
              if (reading === started) reading = undefined;
            }),
        };
        reading = started;
      }
      await reading.promise;
    }
    return snapshot!;
  }

  async function build(keys: readonly RingKey[], now: number): Promise<SigningKeys> {
    const signing = signingKeyAt(keys, now);
    if (signing === undefined || !isAsymmetricAlg(signing.alg)) throw new OAuthError("key_ring_no_signing_key");
    const published = publishedKeysAt(keys, now);
    const [active, operator, ...verifying] = await Promise.all([
      openPrivate(signing),
      options.operatorKeys(),
      ...published.map(async (key) => [key.kid, { alg: key.alg as AsymmetricAlg, key: await importPublic(key) }] as const),
    ]);
    const verificationKeys = new Map<string, { alg: AsymmetricAlg; key: CryptoKey }>(verifying);
    const publicJwks: JWK[] = published.map((key) => key.public_jwk);
    for (const jwk of operator?.publicJwks.keys ?? []) {
      const entry = jwk.kid === undefined ? undefined : operator!.verificationKeys.get(jwk.kid);
      if (entry === undefined || verificationKeys.has(jwk.kid!)) continue;
      publicJwks.push(jwk);
      verificationKeys.set(jwk.kid!, entry);
    }
    return {
      active: { kid: signing.kid, alg: signing.alg, key: active },
      publicJwks: { keys: publicJwks },
      verificationKeys,
      maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds,
    };
  }

  function openPrivate(key: RingKey): Promise<CryptoKey> {
    return imported(privateKeys, key.sealed_private_jwk, async () => {
      try {
        const jwk = await (await options.seal()).open(key.kid, key.sealed_private_jwk);
        return (await importJWK({ ...jwk, key_ops: undefined, ext: undefined }, key.alg)) as CryptoKey;
      } catch (cause) {
        if (cause instanceof OAuthError || cause instanceof ConfigError) throw cause;
        throw new OAuthError("key_ring_key_unopenable");
      }
    });
  }

  function importPublic(key: RingKey): Promise<CryptoKey> {
    return imported(publicKeys, `${key.kid}:${JSON.stringify(key.public_jwk)}`, async () => (await importJWK(key.public_jwk, key.alg)) as CryptoKey);
  }

  return {
    async current() {
      const now = options.clock();
      if (view !== undefined && view.from <= now && now < view.until) return view.keys;
      const { keys, validUntil } = await usableSnapshot(now);
      const at = options.clock();
      // A read that took past the horizon of what it returned is not used (fail closed).
      if (at >= validUntil) throw new OAuthError("key_ring_unavailable");
      const current = { from: at, until: Math.min(validUntil, nextViewChangeAt(keys, at)), keys: build(keys, at) };
      view = current;
      current.keys.catch(() => {
        if (view === current) view = undefined;
      });
      return current.keys;
    },
    adopt: (next) => adopt(next, options.clock()),
  };
}

/** A per-isolate import, once per key; forgotten when it fails. */
function imported(cache: Map<string, Promise<CryptoKey>>, id: string, create: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let pending = cache.get(id);
  if (pending === undefined) {
    if (cache.size >= MAX_IMPORTED) cache.clear();
    cache.set(id, (pending = create()));
    pending.catch(() => cache.delete(id));
  }
  return pending;
}
