/**
 * ExpiringKeys: a set of string keys, each kept until its own expiry, in the SQLite storage of one
 * Durable Object. The replay guard (used assertion and DPoP proof jtis) and the revocation list
 * (revoked access token jtis) are both thin Durable Objects around one of these.
 *
 * The schema is created with a stored schema version inside the owner's `blockConcurrencyWhile`;
 * `add` is one synchronous `INSERT … ON CONFLICT DO NOTHING RETURNING`, so, with the object's input
 * gate serialising requests, two concurrent adds of one key cannot both win; an alarm purges
 * expired rows so storage does not grow without bound.
 */

const SCHEMA_VERSION = 1;

/**
 * Slack added to an alarm so rows that expire within a minute of each other are purged in one run.
 * Under steady traffic a shard then runs its alarm about once a minute, not once a second (each
 * run is a billed Durable Object invocation); an expired row lives at most this much longer, which
 * changes no answer (an expired key's token or assertion is refused for its expiry anyway).
 */
export const PURGE_DELAY_MS = 60_000;

export class ExpiringKeys {
  readonly #ctx: DurableObjectState;
  readonly #table: string;
  /** When the next purge alarm is set (ms since epoch), or 0 for none; mirrors storage. */
  #alarmAt = 0;

  /** @param table SQL table name (a fixed identifier, never user input). */
  constructor(ctx: DurableObjectState, table: string) {
    if (!/^[a-z_]+$/.test(table)) throw new TypeError(`bad table name ${table}`);
    this.#ctx = ctx;
    this.#table = table;
  }

  /** Create or migrate the schema and read the pending alarm. Call inside `blockConcurrencyWhile`. */
  async open(): Promise<void> {
    this.#migrate();
    this.#alarmAt = (await this.#ctx.storage.getAlarm()) ?? 0;
  }

  /** Add `key` until `expiresAt` (seconds). True if it was new, false if already present. */
  add(key: string, expiresAt: number): boolean {
    const rows = this.#ctx.storage.sql
      .exec(`INSERT INTO ${this.#table} (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING 1`, key, expiresAt)
      .toArray();
    if (rows.length === 0) return false;
    this.#schedulePurge(expiresAt * 1000);
    return true;
  }

  /** Whether `key` is present (an expired row not yet purged still counts: its token is dead anyway). */
  has(key: string): boolean {
    return this.#ctx.storage.sql.exec(`SELECT 1 FROM ${this.#table} WHERE key = ?`, key).toArray().length > 0;
  }

  /** The owner's `alarm()`: delete expired rows and schedule the next purge. */
  purge(): void {
    const now = Date.now() / 1000;
    this.#ctx.storage.sql.exec(`DELETE FROM ${this.#table} WHERE expires_at < ?`, now);
    const next = this.#ctx.storage.sql.exec<{ next: number | null }>(`SELECT MIN(expires_at) AS next FROM ${this.#table}`).one().next;
    this.#alarmAt = 0;
    if (next !== null) this.#schedulePurge(next * 1000);
  }

  #schedulePurge(expiresAtMs: number): void {
    // One pending alarm at a time, the earliest needed; later rows are purged by a later run. A
    // row never postpones the alarm: under steady traffic every insert expires later than the one
    // before, and moving the alarm each time would mean it never fires.
    const wanted = expiresAtMs + PURGE_DELAY_MS;
    if (this.#alarmAt !== 0 && this.#alarmAt <= wanted) return;
    this.#alarmAt = wanted;
    void this.#ctx.storage.setAlarm(wanted);
  }

  #migrate(): void {
    const sql = this.#ctx.storage.sql;
    const table = this.#table;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) < 1) {
      sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID`);
      sql.exec(`CREATE INDEX IF NOT EXISTS ${table}_expires_at ON ${table} (expires_at)`);
      sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", SCHEMA_VERSION);
    }
  }
}
