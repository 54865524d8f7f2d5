/**
 * Single-use client assertions, worldwide (SPEC §3 rule 10; RFC 7523 §3 item 7), and single-use
 * DPoP proofs (RFC 9449 §11.1), whose jtis are recorded under a `dpop:<jkt>` subject.
 *
 * The pair (subject, jti) is recorded in a SQLite-backed Durable Object until the assertion's
 * `exp` plus clock skew. One `INSERT … ON CONFLICT DO NOTHING RETURNING` decides first use: the
 * object's input gate serialises requests and the statement is synchronous, so two concurrent
 * presentations cannot both win. Which objects (a client's own, spread over its shard count,
 * and during a topology change the old ones too): replay-topology.ts (SPEC §10). An alarm purges
 * expired rows, so storage does not grow without bound (storage and calls: expiring-keys.ts,
 * shards.ts, shared with the revocation list).
 */
import { DurableObject } from "cloudflare:workers";
import { ExpiringKeys } from "./expiring-keys.js";
import { replayObjects, type ReplayScope } from "./replay-topology.js";
import { callObject } from "./shards.js";

export class ReplayGuard extends DurableObject<Env> {
  readonly #used: ExpiringKeys;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#used = new ExpiringKeys(ctx, "used");
    void ctx.blockConcurrencyWhile(() => this.#used.open());
  }

  /**
   * Record `key` as used until `expiresAt` (seconds). Returns true on first use, false on replay.
   * The only RPC method of this class; synchronous, as the insert is (one promise fewer per call).
   */
  consume(key: string, expiresAt: number): boolean {
    return this.#used.add(key, expiresAt);
  }

  override async alarm(): Promise<void> {
    this.#used.purge();
  }
}

/** What the OAuth layer needs from the replay guard. */
export interface JtiRegistry {
  /**
   * Record `jti` of `subject` (a client_id, or `dpop:<jkt>` for a DPoP proof) as used until
   * `expiresAt` (seconds), in the objects of `scope`. Resolves true on first use and false on replay.
   * @throws OAuthError 503 `temporarily_unavailable` when an object cannot be reached in time.
   */
  consumeOnce(scope: ReplayScope, subject: string, jti: string, expiresAt: number): Promise<boolean>;
}

const UNAVAILABLE = "replay_guard_unavailable";

/**
 * A JtiRegistry over the `REPLAY_GUARD` namespace.
 * @param timeoutMs how long to wait for each object before failing closed (setting REPLAY_GUARD_TIMEOUT_MS).
 */
export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, timeoutMs: number): JtiRegistry {
  return {
    async consumeOnce(scope, subject, jti, expiresAt) {
      // Length-prefixed so ("a", "bc") and ("ab", "c") never collide; the same key in every object.
      const key = `${subject.length}:${subject}${jti}`;
      // SPEC §10: one after another, oldest topology first, so an isolate that still holds the old
      // record, which records in the old object only, and this one serialize on it; a replay in
      // any is a replay.
      for (const object of replayObjects(scope, key)) {
        const firstUse = await callObject({ namespace, ...object, timeoutMs, unavailable: UNAVAILABLE }, (stub) => stub.consume(key, expiresAt));
        if (!firstUse) return false;
      }
      return true;
    },
  };
}
