/**
 * UsageCounts: exact per-client, per-hour counts of issued access tokens (SPEC §11 "Usage"), in the
 * SQLite storage of one Durable Object. A token's count is written in the same synchronous step as
 * the decision it belongs to — the `jti` insert of a replay-guard object, or the quota decision of
 * the client's counter — so a token is counted exactly once and a refused request never.
 *
 * The table is created on the first count, not when the object starts: reading the usage of an
 * object that never counted writes nothing, so a usage read does not make storage (and with it the
 * object's place) for objects the client never used. Rows are kept USAGE_RETENTION_SECONDS, which
 * covers the 24 hours the report shows.
 */
import { HOUR_SECONDS, USAGE_HOURS } from "../core/quota.js";

/** One hour of one client's usage, as stored. */
export interface HourCount {
  /** Start of the UTC hour, seconds since the epoch. */
  readonly hour: number;
  readonly issued: number;
}

/** How long an hour's row is kept after the hour started: the report's 24 hours, plus the current one. */
export const USAGE_RETENTION_SECONDS = (USAGE_HOURS + 1) * HOUR_SECONDS;

const TABLE = "usage_hours";

export class UsageCounts {
  readonly #sql: SqlStorage;
  #created: boolean;

  constructor(ctx: DurableObjectState) {
    this.#sql = ctx.storage.sql;
    this.#created = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TABLE).toArray().length > 0;
  }

  /** Add `n` (negative: take back a count whose token was not issued after all) to `clientId`'s `hour`. */
  add(clientId: string, hour: number, n: number): void {
    if (!this.#created) {
      this.#sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (client_id TEXT NOT NULL, hour INTEGER NOT NULL, issued INTEGER NOT NULL, PRIMARY KEY (client_id, hour)) WITHOUT ROWID`);
      this.#created = true;
    }
    this.#sql.exec(`INSERT INTO ${TABLE} (client_id, hour, issued) VALUES (?, ?, ?) ON CONFLICT (client_id, hour) DO UPDATE SET issued = issued + excluded.issued`, clientId, hour, n);
  }

  /** `clientId`'s counts from `sinceHour` on, oldest first (hours without tokens are absent). */
  read(clientId: string, sinceHour: number): HourCount[] {
    if (!this.#created) return [];
    return this.#sql
      .exec<{ hour: number; issued: number }>(`SELECT hour, issued FROM ${TABLE} WHERE client_id = ? AND hour >= ? ORDER BY hour`, clientId, sinceHour)
      .toArray()
      .map((row) => ({ hour: row.hour, issued: row.issued }));
  }

  /**
   * Delete rows older than the retention at `now` (seconds).
   * @returns when the oldest remaining row may be deleted (seconds), or null when none remains.
   */
  purge(now: number): number | null {
    if (!this.#created) return null;
    this.#sql.exec(`DELETE FROM ${TABLE} WHERE hour <= ?`, now - USAGE_RETENTION_SECONDS);
    const oldest = this.#sql.exec<{ oldest: number | null }>(`SELECT MIN(hour) AS oldest FROM ${TABLE}`).one().oldest;
    return oldest === null ? null : oldest + USAGE_RETENTION_SECONDS;
  }
}
