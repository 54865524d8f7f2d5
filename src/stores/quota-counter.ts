/**
 * The client's counter (SPEC §11): one QuotaCounter Durable Object per client
 * (`quota:<length of client_id>:<client_id>`), the one place every isolate and location agrees on,
 * whatever the client's replay-guard topology. It holds
 * - the windows of a quota'd client: `take()` decides and counts one token in one synchronous
 *   SQL step, and the object's input gate serialises requests, so under any concurrency at most
 *   `limit` tokens are decided `within` a window (enforce mode refuses the rest);
 * - the usage hours of tokens it decided, and of tokens that made no `jti` commit to count on
 *   (stores/usage-counts.ts);
 * - the replay-guard topologies the client left, for 25 hours after each stopped being used: their
 *   objects hold usage counts the report still shows after the record forgot them.
 *
 * Object names hold the state: the name depends on the client_id only, so a change of the
 * client's shard count or location keeps its counts.
 */
import { DurableObject } from "cloudflare:workers";
import { decideQuota, hourOf, quotaWindow, type QuotaDecision, type QuotaWindowState, type TokenQuota } from "../core/quota.js";
import type { ClientRecord, PreviousReplayTopology, ReplayGuardLocation, ReplayTopology } from "../core/client-record.js";
import { callObject } from "./shards.js";
import { UsageCounts, type HourCount } from "./usage-counts.js";

const WINDOWS = "quota_windows";
const TOPOLOGIES = "usage_topologies";
/** Purge runs at most this often; a window row lives until its window ended. */
const PURGE_INTERVAL_MS = 3_600_000;

export class QuotaCounter extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #hours: UsageCounts;
  #windowsCreated: boolean;
  /** A purge alarm is pending (mirrors storage). */
  #purgePending = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#hours = new UsageCounts(ctx);
    // Created on the first decision, not here: a usage read writes nothing (usage-counts.ts).
    this.#windowsCreated = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", WINDOWS).toArray().length > 0;
    void ctx.blockConcurrencyWhile(async () => {
      this.#purgePending = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * SPEC §11: decide one token of `clientId` under `quota` at `now` (seconds) and count it: an
   * issued token (`within`, `exceeded_observed`) in the window and in its usage hour, a refusal
   * (`exceeded`) in the window's refusals only.
   */
  take(clientId: string, quota: TokenQuota, now: number): QuotaDecision {
    const { start, end } = quotaWindow(quota.window, now);
    if (!this.#windowsCreated) {
      this.#sql.exec(`CREATE TABLE IF NOT EXISTS ${WINDOWS} (window INTEGER NOT NULL, start INTEGER NOT NULL, issued INTEGER NOT NULL, refused INTEGER NOT NULL, over_limit INTEGER NOT NULL, PRIMARY KEY (window, start)) WITHOUT ROWID`);
      this.#windowsCreated = true;
    }
    const current = this.#window(quota.window, start);
    const outcome = decideQuota(quota, current.issued);
    const issued = outcome === "exceeded" ? 0 : 1;
    this.#sql.exec(
      `INSERT INTO ${WINDOWS} (window, start, issued, refused, over_limit) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (window, start) DO UPDATE SET issued = issued + excluded.issued, refused = refused + excluded.refused, over_limit = over_limit + excluded.over_limit`,
      quota.window, start, issued, outcome === "exceeded" ? 1 : 0, outcome === "exceeded_observed" ? 1 : 0,
    );
    if (issued === 1) this.#hours.add(clientId, hourOf(now), 1);
    this.#keepPurging();
    return {
      outcome,
      window: {
        start,
        end,
        issued: current.issued + issued,
        refused_quota: current.refused_quota + (outcome === "exceeded" ? 1 : 0),
        over_limit: current.over_limit + (outcome === "exceeded_observed" ? 1 : 0),
      },
    };
  }

  /** Take back a token `take()` counted at `now` whose issuance then failed (nothing was issued). */
  giveBack(clientId: string, quota: TokenQuota, decided: QuotaDecision, now: number): void {
    if (decided.outcome === "exceeded" || !this.#windowsCreated) return;
    this.#sql.exec(
      `UPDATE ${WINDOWS} SET issued = MAX(0, issued - 1), over_limit = MAX(0, over_limit - ?) WHERE window = ? AND start = ?`,
      decided.outcome === "exceeded_observed" ? 1 : 0, quota.window, decided.window.start,
    );
    this.#hours.add(clientId, hourOf(now), -1);
  }

  /** Count `n` tokens of `clientId` at `now` that made no quota decision and no jti commit. */
  count(clientId: string, now: number, n: number): void {
    this.#hours.add(clientId, hourOf(now), n);
    this.#keepPurging();
  }

  /** Remember topologies the client left, each until its `until` (seconds); a later `until` wins. */
  rememberTopologies(topologies: readonly PreviousReplayTopology[]): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS ${TOPOLOGIES} (shards INTEGER NOT NULL, location TEXT NOT NULL, until INTEGER NOT NULL, PRIMARY KEY (shards, location)) WITHOUT ROWID`);
    for (const t of topologies) {
      this.#sql.exec(`INSERT INTO ${TOPOLOGIES} (shards, location, until) VALUES (?, ?, ?) ON CONFLICT (shards, location) DO UPDATE SET until = MAX(until, excluded.until)`, t.shards, t.location ?? "", t.until);
    }
    this.#keepPurging();
  }

  /**
   * The window of `windowSeconds` that holds `now` (null without a quota), the usage hours since
   * `sinceHour`, and the topologies the client left that may still hold counts. Writes nothing.
   */
  read(clientId: string, windowSeconds: number | null, now: number, sinceHour: number): CounterReading {
    let window: QuotaWindowState | null = null;
    if (windowSeconds !== null) {
      const { start, end } = quotaWindow(windowSeconds, now);
      window = { start, end, ...this.#window(windowSeconds, start) };
    }
    return { window, hours: this.#hours.read(clientId, sinceHour), topologies: this.#topologies(now) };
  }

  #topologies(now: number): ReplayTopology[] {
    if (this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TOPOLOGIES).toArray().length === 0) return [];
    return this.#sql
      .exec<{ shards: number; location: string }>(`SELECT shards, location FROM ${TOPOLOGIES} WHERE until > ?`, now)
      .toArray()
      .map((row) => (row.location === "" ? { shards: row.shards } : { shards: row.shards, location: row.location as ReplayGuardLocation }));
  }

  override async alarm(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    if (this.#windowsCreated) this.#sql.exec(`DELETE FROM ${WINDOWS} WHERE start + window < ?`, now);
    const topologies = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TOPOLOGIES).toArray().length > 0;
    if (topologies) this.#sql.exec(`DELETE FROM ${TOPOLOGIES} WHERE until <= ?`, now);
    const remaining =
      this.#hours.purge(now) !== null ||
      (this.#windowsCreated && this.#sql.exec(`SELECT 1 FROM ${WINDOWS} LIMIT 1`).toArray().length > 0) ||
      (topologies && this.#sql.exec(`SELECT 1 FROM ${TOPOLOGIES} LIMIT 1`).toArray().length > 0);
    this.#purgePending = false;
    if (remaining) this.#keepPurging();
  }

  #window(windowSeconds: number, start: number): Omit<QuotaWindowState, "start" | "end"> {
    if (!this.#windowsCreated) return { issued: 0, refused_quota: 0, over_limit: 0 };
    const row = this.#sql
      .exec<{ issued: number; refused: number; over_limit: number }>(`SELECT issued, refused, over_limit FROM ${WINDOWS} WHERE window = ? AND start = ?`, windowSeconds, start)
      .toArray()[0];
    return { issued: row?.issued ?? 0, refused_quota: row?.refused ?? 0, over_limit: row?.over_limit ?? 0 };
  }

  /** One purge alarm pending while rows exist (an hour's rows are dropped after 25 hours). */
  #keepPurging(): void {
    if (this.#purgePending) return;
    this.#purgePending = true;
    void this.ctx.storage.setAlarm(Date.now() + PURGE_INTERVAL_MS);
  }
}

/** What a counter read answers (the usage report). */
export interface CounterReading {
  readonly window: QuotaWindowState | null;
  readonly hours: HourCount[];
  /** Replay-guard topologies the client left whose objects may still hold counts of the last 24 hours. */
  readonly topologies: ReplayTopology[];
}

/**
 * Whose counter: the client, and its replay-guard location hint, with which its counter is created
 * (near the client's other objects, SPEC §10), when it has one.
 */
export type CounterOwner = Pick<ClientRecord, "client_id" | "replay_guard_location">;

/** What the OAuth layer and the usage report ask of the clients' counters. */
export interface QuotaCounters {
  /**
   * Decide and count one token of `client` under `quota` at `now`.
   * @throws OAuthError 503 `temporarily_unavailable` (`quota_counter_unavailable`) when the counter cannot be reached: fail closed.
   */
  take(client: CounterOwner, quota: TokenQuota, now: number): Promise<QuotaDecision>;
  /** Take back a decided token that was not issued. Best effort, after the response. */
  giveBack(client: CounterOwner, quota: TokenQuota, decided: QuotaDecision, now: number): Promise<void>;
  /** Count one token of `client` issued at `now` without a quota decision or a jti commit. */
  count(client: CounterOwner, now: number, n: number): Promise<void>;
  /**
   * The counter's window state (for `windowSeconds`, else null) and hour counts since `sinceHour`.
   * @throws OAuthError 503 `usage_unavailable` when the counter cannot be reached.
   */
  read(client: CounterOwner, windowSeconds: number | null, now: number, sinceHour: number): Promise<CounterReading>;
  /** Keep `topologies` (each with its last-use time `until`) readable for the usage report. */
  rememberTopologies(client: CounterOwner, topologies: readonly PreviousReplayTopology[]): Promise<void>;
}

/** `quota:<length>:<client_id>`: length-prefixed, so no client_id can name another's counter. */
export function quotaCounterName(clientId: string): string {
  return `quota:${clientId.length}:${clientId}`;
}

/**
 * QuotaCounters over the `QUOTA_COUNTER` namespace.
 * @param timeoutMs how long to wait for the counter before failing closed (REPLAY_GUARD_TIMEOUT_MS).
 */
export function quotaCounters(namespace: DurableObjectNamespace<QuotaCounter>, timeoutMs: number): QuotaCounters {
  const call = <R>(client: CounterOwner, run: (stub: DurableObjectStub<QuotaCounter>) => Promise<R>, unavailable: "quota_counter_unavailable" | "usage_unavailable" = "quota_counter_unavailable") => {
    const name = quotaCounterName(client.client_id);
    const target = client.replay_guard_location === undefined ? { name } : { name, locationHint: client.replay_guard_location };
    return callObject({ namespace, ...target, timeoutMs, unavailable }, run);
  };
  return {
    take: (client, quota, now) => call(client, (stub) => stub.take(client.client_id, quota, now)),
    giveBack: (client, quota, decided, now) => call(client, (stub) => stub.giveBack(client.client_id, quota, decided, now)),
    count: (client, now, n) => call(client, (stub) => stub.count(client.client_id, now, n)),
    read: (client, windowSeconds, now, sinceHour) => call(client, (stub) => stub.read(client.client_id, windowSeconds, now, sinceHour), "usage_unavailable"),
    rememberTopologies: (client, topologies) => call(client, (stub) => stub.rememberTopologies(topologies), "usage_unavailable"),
  };
}
