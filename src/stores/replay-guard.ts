/**
 * Single-use client assertions, worldwide (SPEC §3 rule 10; RFC 7523 §3 item 7), and single-use
 * DPoP proofs (RFC 9449 §11.1), whose jtis are recorded under a `dpop:<jkt>` pseudo client id.
 *
 * The pair (client_id, jti) is recorded in a SQLite-backed Durable Object until the assertion's
 * `exp` plus clock skew. One `INSERT … ON CONFLICT DO NOTHING RETURNING` decides first use: the
 * object's input gate serialises requests and the statement is synchronous, so two concurrent
 * presentations cannot both win. The jti space is sharded over `REPLAY_GUARD_SHARDS` objects by a
 * hash of the pair, so one busy client is not capped by one object's throughput. An alarm purges
 * expired rows, so storage does not grow without bound (storage and sharding: expiring-keys.ts,
 * shards.ts, shared with the revocation list).
 */
import { DurableObject } from "cloudflare:workers";
import { ExpiringKeys } from "./expiring-keys.js";
import { callShard, type ShardSet } from "./shards.js";

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
   * Record (clientId, jti) as used until `expiresAt` (seconds). Resolves true on first use and
   * false on replay.
   * @throws OAuthError 503 `temporarily_unavailable` when the guard cannot be reached in time.
   */
  consumeOnce(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
}

/**
 * A JtiRegistry over the `REPLAY_GUARD` namespace, sharded over `shards` objects.
 * @param timeoutMs how long to wait for an answer before failing closed (setting REPLAY_GUARD_TIMEOUT_MS).
 */
export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, shards: number, timeoutMs: number): JtiRegistry {
  const shardSet: ShardSet<ReplayGuard> = {
    namespace,
    prefix: "replay-guard",
    count: shards,
    timeoutMs,
    unavailable: {
      reason: "replay_guard_unavailable",
      description: "the replay guard could not be reached; no token was issued, retry with a new assertion",
    },
  };
  return {
    async consumeOnce(clientId, jti, expiresAt) {
      // Length-prefixed so ("a", "bc") and ("ab", "c") never collide.
      const key = `${clientId.length}:${clientId}${jti}`;
      return callShard(shardSet, key, (stub) => stub.consume(key, expiresAt));
    },
  };
}
