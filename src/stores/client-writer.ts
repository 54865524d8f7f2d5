/**
 * The writer of record for client registrations (SPEC §6): one SQLite-backed Durable Object per
 * client_id through which every admin change passes. KV has no compare-and-set, so two admin
 * requests that read-modify-write one `client:<id>` record could silently lose a change; here every
 * change is a versioned compare-and-set against the object's own copy, applied one at a time.
 *
 * - `read()` answers the object's copy (read-your-writes for operators), or, for a client that has
 *   never been written through the object, the KV record at version 0.
 * - `commit(expected, next)` applies `next` only if the version is still `expected`: it writes KV
 *   first (the fast global read path of the token endpoint), then its own copy with version + 1.
 *   A KV failure leaves both unchanged. A deletion keeps a tombstone, so a stale KV read can never
 *   bring a deleted client back.
 *
 * The change itself (validation, merging) is computed by the caller (oauth/client-registration.ts)
 * and retried on conflict, so this object holds no OAuth rules.
 */
import { DurableObject } from "cloudflare:workers";
import { OAuthError } from "../http/errors.js";
import { ClientRegistry, type ClientRecord } from "./clients.js";

const SCHEMA_VERSION = 1;

/** A client record (null: absent or deleted) and the version it has in the writer. */
export interface VersionedClient {
  readonly version: number;
  readonly record: ClientRecord | null;
}

export type CommitOutcome =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly current: VersionedClient };

export class ClientWriter extends DurableObject<Env> {
  /** Commits run one after another, across the awaits of their KV writes. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => this.#migrate());
  }

  /** The current record and its version. */
  async read(clientId: string): Promise<VersionedClient> {
    const row = this.#row(clientId);
    if (row) return row;
    // Never written through this object (created before it existed): KV is the record.
    return { version: 0, record: await new ClientRegistry(this.env.CLIENTS).getFresh(clientId) };
  }

  /**
   * Store `next` (null deletes) if the record is still at `expectedVersion`.
   * @returns ok with the new version, or the current record when another change came first.
   * @throws when KV cannot be written (nothing changed then).
   */
  commit(clientId: string, expectedVersion: number, next: ClientRecord | null): Promise<CommitOutcome> {
    const run = this.#queue.then(() => this.#commit(clientId, expectedVersion, next));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #commit(clientId: string, expectedVersion: number, next: ClientRecord | null): Promise<CommitOutcome> {
    const row = this.#row(clientId);
    const version = row?.version ?? 0;
    if (version !== expectedVersion) return { ok: false, current: row ?? (await this.read(clientId)) };
    if (next !== null && next.client_id !== clientId) throw new Error("record does not belong to this client_id");
    const kv = new ClientRegistry(this.env.CLIENTS);
    if (next === null) await kv.delete(clientId);
    else await kv.put(next);
    this.ctx.storage.sql.exec(
      "INSERT INTO client (slot, client_id, version, record) VALUES (1, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET version = excluded.version, record = excluded.record",
      clientId,
      version + 1,
      next === null ? null : JSON.stringify(next),
    );
    return { ok: true, version: version + 1 };
  }

  #row(clientId: string): VersionedClient | null {
    const row = this.ctx.storage.sql
      .exec<{ client_id: string; version: number; record: string | null }>("SELECT client_id, version, record FROM client WHERE slot = 1")
      .toArray()[0];
    if (!row) return null;
    if (row.client_id !== clientId) throw new Error("client writer addressed with another client_id");
    return { version: row.version, record: row.record === null ? null : (JSON.parse(row.record) as ClientRecord) };
  }

  #migrate(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) < 1) {
      sql.exec("CREATE TABLE IF NOT EXISTS client (slot INTEGER PRIMARY KEY CHECK (slot = 1), client_id TEXT NOT NULL, version INTEGER NOT NULL, record TEXT)");
      sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", SCHEMA_VERSION);
    }
  }
}

/** What the registration logic needs from the writer. */
export interface ClientWrites {
  /** @throws OAuthError 503 when the writer cannot be reached. */
  read(clientId: string): Promise<VersionedClient>;
  /**
   * Compare-and-set; on success the isolate's client cache is updated at once.
   * @throws OAuthError 503 when the writer or KV cannot be reached (the change was not applied).
   */
  commit(clientId: string, expectedVersion: number, next: ClientRecord | null): Promise<CommitOutcome>;
}

/** ClientWrites over the `CLIENT_WRITER` namespace, one object per client_id. */
export function clientWriterStore(namespace: DurableObjectNamespace<ClientWriter>, registry: ClientRegistry): ClientWrites {
  const stub = (clientId: string) => namespace.get(namespace.idFromName(clientId));
  return {
    async read(clientId) {
      try {
        return (await stub(clientId).read(clientId)) as VersionedClient;
      } catch (cause) {
        throw unavailable(cause);
      }
    },
    async commit(clientId, expectedVersion, next) {
      let outcome: CommitOutcome;
      try {
        outcome = (await stub(clientId).commit(clientId, expectedVersion, next)) as CommitOutcome;
      } catch (cause) {
        throw unavailable(cause);
      }
      if (outcome.ok) registry.remember(clientId, next);
      return outcome;
    },
  };
}

function unavailable(cause: unknown): OAuthError {
  console.error(JSON.stringify({ event: "client_writer_unavailable", message: String(cause) }));
  return new OAuthError("temporarily_unavailable", "the client registry could not be updated; retry shortly", "client_writer_unavailable");
}
