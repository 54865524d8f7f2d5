/**
 * The per-isolate cache every fetched key set goes through (a client's `jwks_uri`, a trusted
 * issuer's keys; SPEC §6, §9):
 * - a set is used for JWKS_CACHE_TTL_SECONDS after it was fetched, then fetched again; an expired
 *   set is never served (fail closed);
 * - an unknown `kid` (`refresh`) refetches at most every JWKS_REFETCH_MIN_INTERVAL_SECONDS, so a
 *   flood of assertions with made-up kids cannot turn the server into a fetch amplifier;
 * - one load at a time per set, shared by concurrent callers;
 * - a failure answers for itself for JWKS_FAILURE_BACKOFF_SECONDS; on a refresh that fails, a
 *   still-fresh set is kept (the caller then reports the missing key).
 * Failures are `invalid_client` through the one catalogue, with the reason the loader gave.
 */
import type { JWK } from "jose";
import { OAuthError } from "../core/errors.js";
import type { Reason } from "../core/error-catalogue.js";

/** How long a fetched set is used before it is fetched again. */
export const JWKS_CACHE_TTL_SECONDS = 300;
/** Minimum time between two fetches of one set (refetch on an unknown kid). */
export const JWKS_REFETCH_MIN_INTERVAL_SECONDS = 30;
/** How long a failed fetch answers for itself before the next attempt. */
export const JWKS_FAILURE_BACKOFF_SECONDS = 5;

const MAX_ENTRIES = 1_000;

type FailureReason = Extract<Reason, "assertion_jwks_unavailable" | "assertion_jwks_invalid" | "federated_keys_unavailable" | "federated_keys_invalid">;

/** A load that failed: `problem` goes to the log, `reason` to the caller. */
export class KeySetFailure extends Error {
  constructor(
    readonly problem: string,
    readonly reason: FailureReason,
  ) {
    super(problem);
  }
}

/** What a loader found: the keys and when they were fetched (ms; earlier than now for a set read back from a shared cache). */
export interface LoadedKeySet {
  readonly keys: readonly JWK[];
  readonly fetchedAt: number;
}

export interface KeySetCacheOptions {
  /** Milliseconds since the epoch. */
  readonly nowMs: () => number;
  /** The reason of a loader error that is not a KeySetFailure (a network error). */
  readonly unavailable: FailureReason;
}

interface Entry {
  keys?: readonly JWK[];
  /** When `keys` stop being served (ms). */
  expiresAt: number;
  /** Last load attempt (ms), success or not. */
  attemptedAt: number;
  /** Last failure (ms) and its reason, cleared by a success. */
  failedAt?: number;
  failure?: FailureReason;
  pending?: Promise<readonly JWK[]>;
}

export interface KeySetCache {
  /**
   * The set cached under `id`, loaded with `load` when missing, expired, or (with `refresh`)
   * older than the refetch interval; `logFailure` writes the log line of a failed load (never key
   * material).
   * @throws OAuthError invalid_client with the failure's reason.
   */
  get(id: string, refresh: boolean, load: (now: number) => Promise<LoadedKeySet>, logFailure: (failure: KeySetFailure) => void): Promise<readonly JWK[]>;
}

export function keySetCache(options: KeySetCacheOptions): KeySetCache {
  const entries = new Map<string, Entry>();
  return {
    get(id, refresh, load, logFailure) {
      let entry = entries.get(id);
      if (!entry) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(id, (entry = { expiresAt: 0, attemptedAt: -Infinity }));
      }
      const now = options.nowMs();
      const fresh = entry.keys !== undefined && now < entry.expiresAt;
      if (fresh && (!refresh || now - entry.attemptedAt < JWKS_REFETCH_MIN_INTERVAL_SECONDS * 1000)) return Promise.resolve(entry.keys!);
      if (entry.pending) return entry.pending;
      if (entry.failedAt !== undefined && now - entry.failedAt < JWKS_FAILURE_BACKOFF_SECONDS * 1000) {
        return fresh ? Promise.resolve(entry.keys!) : Promise.reject(new OAuthError(entry.failure ?? options.unavailable));
      }
      const current = entry;
      current.pending = load(now)
        .then(({ keys, fetchedAt }) => {
          Object.assign(current, { keys, expiresAt: fetchedAt + JWKS_CACHE_TTL_SECONDS * 1000, attemptedAt: fetchedAt, failedAt: undefined, failure: undefined });
          return keys;
        })
        .catch((cause: unknown) => {
          const failure = cause instanceof KeySetFailure ? cause : new KeySetFailure("network_error", options.unavailable);
          Object.assign(current, { attemptedAt: now, failedAt: now, failure: failure.reason });
          logFailure(failure);
          if (refresh && current.keys !== undefined && now < current.expiresAt) return current.keys;
          throw new OAuthError(failure.reason);
        })
        .finally(() => (current.pending = undefined));
      return current.pending;
    },
  };
}
