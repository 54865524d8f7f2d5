/**
 * ExpiringKeys: a set of string keys, each kept until its own expiry, in the SQLite storage of one
 * Durable Object. The replay guard (used assertion and DPoP proof jtis) and the revocation list
 * (revoked access token jtis) are both thin Durable Objects around one of these.
 *
 * The schema is created with a stored schema version, on the first `add` (an object only read, such
 * as a usage read of a replay-guard object that never recorded anything, writes nothing, so it
 * makes no storage, and no place, for the object); an existing schema is migrated inside the
 * owner's `blockConcurrencyWhile`;
 * `add` is one synchronous `INSERT … ON CONFLICT DO NOTHING RETURNING`, so, with the object's input
 * gate serialising requests, two concurrent adds of one key cannot both win; an alarm purges
 * expired rows so storage does not grow without bound.
 *
 * Single use must survive purges (SPEC §3 rule 10): the claim checks of a request use a `now` taken
 * when it started, and its insert may reach the object later, after an alarm. So expiries are
 * stored as whole seconds rounded up, and a row is purged only once it has been expired for
 * PURGE_GRACE_SECONDS: a presentation that passed its checks always finds its first use.
 */

const SCHEMA_VERSION = 1;

/**
 * Slack added to an alarm so rows that expire within a minute of each other are purged in one run.
 * Under steady traffic a shard then runs its alarm about once a minute, not once a second (each
 * run is a billed Durable Object invocation); an expired row lives at most this much longer, which
 * changes no answer (an expired key's token or assertion is refused for its expiry anyway).
 */
export const PURGE_DELAY_MS = 60_000;

/**
 * How long a row is kept after its expiry before a purge may delete it: longer than any request
 * can take between its claim checks and its insert (the replay guard's own timeout is at most 60 s).
 */
export const PURGE_GRACE_SECONDS = 60;

export class ExpiringKeys {
  readonly #ctx: DurableObjectState;
  readonly #table: string;
  readonly #nowMs: () => number;
  /** When the next purge alarm is set (ms since epoch), or 0 for none; mirrors storage. */
  #alarmAt = 0;
  /** The table exists (created by `open` when storage has it, else by the first `add`). */
  #created = false;

  /**
   * @param table SQL table name (a fixed identifier, never user input).
   * @param nowMs the clock of purges, milliseconds since the epoch (tests move it). Default `Date.now`.
   */
  constructor(ctx: DurableObjectState, table: string, nowMs: () => number = () => Date.now()) {
    if (!/^[a-z_]+$/.test(table)) throw new TypeError(`bad table name ${table}`);
    this.#ctx = ctx;
    this.#table = table;
    this.#nowMs = nowMs;
  }

  /** Create or migrate the schema and read the pending alarm. Call inside `blockConcurrencyWhile`. */
  async open(): Promise<void> {
    if (this.#ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0) this.#migrate();
    this.#alarmAt = (await this.#ctx.storage.getAlarm()) ?? 0;
  }

  /** Add `key` until `expiresAt` (seconds, rounded up). True if it was new, false if already present. */
  add(key: string, expiresAt: number): boolean {
    if (!this.#created) this.#migrate();
    const until = Math.ceil(expiresAt);
    const rows = this.#ctx.storage.sql
      .exec(`INSERT INTO ${this.#table} (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING 1`, key, until)
      .toArray();
    if (rows.length === 0) return false;
    this.#schedulePurge(until);
    return true;
  }

  /** Whether `key` is present (an expired row not yet purged still counts: its token is dead anyway). */
  has(key: string): boolean {
    if (!this.#created) return false;
    return this.#ctx.storage.sql.exec(`SELECT 1 FROM ${this.#table} WHERE key = ?`, key).toArray().length > 0;
  }

  /** The owner's `alarm()`: delete rows expired for longer than the grace, schedule the next purge. */
  purge(): void {
    this.#alarmAt = 0;
    if (!this.#created) return;
    const now = this.#nowMs() / 1000;
    this.#ctx.storage.sql.exec(`DELETE FROM ${this.#table} WHERE expires_at < ?`, now - PURGE_GRACE_SECONDS);
    const next = this.#ctx.storage.sql.exec<{ next: number | null }>(`SELECT MIN(expires_at) AS next FROM ${this.#table}`).one().next;
    if (next !== null) this.#schedulePurge(next);
  }

  /** @param expiresAt a row's expiry in whole seconds; the purge that may delete it runs after the grace. */
  #schedulePurge(expiresAt: number): void {
    this.requestAlarm((expiresAt + PURGE_GRACE_SECONDS) * 1000);
  }

  /**
   * Have the owner's `alarm()` run at `atMs` (plus PURGE_DELAY_MS) or earlier: for other rows of
   * the same object that need purging (the replay guard's usage counts).
   */
  requestAlarm(atMs: number): void {
    // One pending alarm at a time, the earliest needed; later rows are purged by a later run. A
    // row never postpones the alarm: under steady traffic every insert expires later than the one
    // before, and moving the alarm each time would mean it never fires.
    const wanted = atMs + PURGE_DELAY_MS;
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
    this.#created = true;
  }
}
