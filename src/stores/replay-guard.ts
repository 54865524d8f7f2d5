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
 *
 * SPEC §11: a token's usage count rides on its jti's first use — in the same synchronous step, in
 * the last object the jti is recorded in — so counting costs a client without a quota no round
 * trip, and a replay is never counted (usage-counts.ts; the usage report reads every object of the
 * client's topologies: usage-report.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { hourOf, type UsageCount } from "../core/quota.js";
import { ExpiringKeys } from "./expiring-keys.js";
import { replayObjects, type ReplayScope } from "./replay-topology.js";
import { callObject } from "./shards.js";
import { UsageCounts, type HourCount } from "./usage-counts.js";

/** A token to count with a first use: the client and the hour (seconds) it was issued in. */
export interface HourlyCount {
  readonly clientId: string;
  readonly hour: number;
}

export class ReplayGuard extends DurableObject<Env> {
  readonly #used: ExpiringKeys;
  readonly #usage: UsageCounts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#used = new ExpiringKeys(ctx, "used");
    this.#usage = new UsageCounts(ctx);
    void ctx.blockConcurrencyWhile(() => this.#used.open());
  }

  /**
   * Record `key` as used until `expiresAt` (seconds). Returns true on first use, false on replay.
   * With `count`, a first use also counts one token in the client's hour (SPEC §11). Synchronous,
   * as the insert is (one promise fewer per call).
   */
  consume(key: string, expiresAt: number, count?: HourlyCount): boolean {
    const firstUse = this.#used.add(key, expiresAt);
    if (firstUse && count !== undefined) this.#usage.add(count.clientId, count.hour, 1);
    return firstUse;
  }

  /** Take back a count of `consume` whose token was not issued after all. */
  uncount(count: HourlyCount): void {
    this.#usage.add(count.clientId, count.hour, -1);
  }

  /** The counts of `clientId` from `sinceHour` on (the usage report). Writes nothing. */
  usage(clientId: string, sinceHour: number): HourCount[] {
    return this.#usage.read(clientId, sinceHour);
  }

  override async alarm(): Promise<void> {
    this.#used.purge();
    const nextUsagePurge = this.#usage.purge(Math.floor(Date.now() / 1000));
    if (nextUsagePurge !== null) this.#used.requestAlarm(nextUsagePurge * 1000);
  }
}

/** What the OAuth layer needs from the replay guard. */
export interface JtiRegistry {
  /**
   * Record `jti` of `subject` (a client_id, or `dpop:<jkt>` for a DPoP proof) as used until
   * `expiresAt` (seconds), in the objects of `scope`. Resolves true on first use and false on replay.
   * @throws OAuthError 503 `temporarily_unavailable` when an object cannot be reached in time.
   */
  consumeOnce(scope: ReplayScope, subject: string, jti: string, expiresAt: number, usage?: UsageCount): Promise<boolean>;
  /** Take back the `usage` count of a first use by `consumeOnce` (its token was not issued). */
  uncount(scope: ReplayScope, subject: string, jti: string, usage: UsageCount): Promise<void>;
}

const UNAVAILABLE = "replay_guard_unavailable";

/**
 * A JtiRegistry over the `REPLAY_GUARD` namespace.
 * @param timeoutMs how long to wait for each object before failing closed (setting REPLAY_GUARD_TIMEOUT_MS).
 */
export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, timeoutMs: number): JtiRegistry {
  return {
    async consumeOnce(scope, subject, jti, expiresAt, usage) {
      const key = replayKey(subject, jti);
      const objects = replayObjects(scope, key);
      // SPEC §11: the count goes with the last object's first use: only then is the jti new in all.
      const last = objects[objects.length - 1];
      const count = usage === undefined ? undefined : hourlyCount(usage);
      // SPEC §10: one after another, oldest topology first, so an isolate that still holds the old
      // record, which records in the old object only, and this one serialize on it; a replay in
      // any is a replay.
      for (const object of objects) {
        const firstUse = await callObject({ namespace, ...object, timeoutMs, unavailable: UNAVAILABLE }, (stub) =>
          object === last && count !== undefined ? stub.consume(key, expiresAt, count) : stub.consume(key, expiresAt),
        );
        if (!firstUse) return false;
      }
      return true;
    },
    async uncount(scope, subject, jti, usage) {
      const objects = replayObjects(scope, replayKey(subject, jti));
      const last = objects[objects.length - 1]!;
      await callObject({ namespace, ...last, timeoutMs, unavailable: UNAVAILABLE }, (stub) => stub.uncount(hourlyCount(usage)));
    },
  };
}

/** Length-prefixed so ("a", "bc") and ("ab", "c") never collide; the same key in every object. */
const replayKey = (subject: string, jti: string) => `${subject.length}:${subject}${jti}`;

const hourlyCount = (usage: UsageCount): HourlyCount => ({ clientId: usage.clientId, hour: hourOf(usage.now) });
