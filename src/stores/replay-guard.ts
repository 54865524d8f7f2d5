/**
 * Single-use client assertions, worldwide (SPEC §3 rule 10; RFC 7523 §3 item 7).
 *
 * The pair (client_id, jti) is recorded in a SQLite-backed Durable Object until the assertion's
 * `exp` plus clock skew. One `INSERT … ON CONFLICT DO NOTHING RETURNING` decides first use: the
 * object's input gate serialises requests and the statement is synchronous, so two concurrent
 * presentations cannot both win. The jti space is sharded over `REPLAY_GUARD_SHARDS` objects by a
 * hash of the pair, so one busy client is not capped by one object's throughput. An alarm purges
 * expired rows, so storage does not grow without bound.
 */
import { DurableObject } from "cloudflare:workers";
import { REPLAY_GUARD_TIMEOUT_MS } from "../config.js";
import { OAuthError } from "../http/errors.js";

const SCHEMA_VERSION = 1;

export class ReplayGuard extends DurableObject<Env> {
  /** When the next purge alarm is set (ms since epoch), or 0 for none; mirrors storage. */
  #alarmAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#migrate();
      this.#alarmAt = (await ctx.storage.getAlarm()) ?? 0;
    });
  }

  /**
   * Record `key` as used until `expiresAt` (seconds). Returns true on first use, false on replay.
   * The only RPC method of this class.
   */
  async consume(key: string, expiresAt: number): Promise<boolean> {
    const rows = this.ctx.storage.sql
      .exec("INSERT INTO used (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING 1", key, expiresAt)
      .toArray();
    if (rows.length === 0) return false;
    this.#schedulePurge(expiresAt * 1000);
    return true;
  }

  override async alarm(): Promise<void> {
    const now = Date.now() / 1000;
    this.ctx.storage.sql.exec("DELETE FROM used WHERE expires_at < ?", now);
    const next = this.ctx.storage.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM used").one().next;
    this.#alarmAt = 0;
    if (next !== null) this.#schedulePurge(next * 1000);
  }

  #schedulePurge(atMs: number): void {
    // One pending alarm at a time: the earliest needed. Later rows are purged by a later run.
    if (this.#alarmAt !== 0 && this.#alarmAt <= atMs) return;
    this.#alarmAt = atMs + 1000;
    void this.ctx.storage.setAlarm(this.#alarmAt);
  }

  #migrate(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) < 1) {
      sql.exec("CREATE TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID");
      sql.exec("CREATE INDEX IF NOT EXISTS used_expires_at ON used (expires_at)");
      sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", SCHEMA_VERSION);
    }
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
export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, shards: number, timeoutMs = REPLAY_GUARD_TIMEOUT_MS): JtiRegistry {
  return {
    async consumeOnce(clientId, jti, expiresAt) {
      // Length-prefixed so ("a", "bc") and ("ab", "c") never collide.
      const key = `${clientId.length}:${clientId}${jti}`;
      const shard = fnv1a(key) % shards;
      let timer: number | null = null;
      try {
        const stub = namespace.get(namespace.idFromName(`replay-guard-${shard}`));
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("replay guard timed out")), timeoutMs);
        });
        return await Promise.race([stub.consume(key, expiresAt), timeout]);
      } catch (cause) {
        console.error(JSON.stringify({ event: "replay_guard_unavailable", shard, message: String(cause) }));
        throw new OAuthError(
          "temporarily_unavailable",
          "the replay guard could not be reached; no token was issued, retry with a new assertion",
          "replay_guard_unavailable",
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** FNV-1a 32-bit: a fast, well-spread shard picker (not a security boundary). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
