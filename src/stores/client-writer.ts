/**
 * The writer of record for client registrations (SPEC §6): one SQLite-backed Durable Object per
 * client_id through which every admin change passes. KV has no compare-and-set, so two admin
 * requests that read-modify-write one `client:<id>` record could silently lose a change; here every
 * change is a versioned compare-and-set against the object's own copy, applied one at a time.
 *
 * - `read()` answers the object's copy (read-your-writes for operators); a record never written is
 *   absent at version 0 (every record is written through its object, never straight into KV).
 * - `commit(expected, next)` applies `next` only if the version is still `expected`: it writes KV
 *   first (the fast global read path of the token endpoint), then its own copy with version + 1.
 *   A KV failure leaves both unchanged. A deletion keeps a tombstone, so a stale KV read can never
 *   bring a deleted client back.
 *
 * The change itself (validation, merging) is computed by the caller (oauth/registration/: parse → mutate, then apply.ts)
 * and retried on conflict, so this object holds no OAuth rules.
 *
 * The same class is the writer of record of trusted issuers (SPEC §9): a record kind plus its id
 * name one object (`trusted_issuer:<issuer>`; client ids cannot contain `:`), and `readRecord` /
 * `commitRecord` pick the KV store of that kind. `read` / `commit` are the client kind.
 */
import { DurableObject } from "cloudflare:workers";
import type { TrustedIssuerRecord } from "../core/federation.js";
import { OAuthError } from "../core/errors.js";
import { ClientRegistry } from "./clients.js";
import { type ClientRecord } from "../core/client-record.js";
import { TrustedIssuerRegistry } from "./trusted-issuers.js";

const SCHEMA_VERSION = 1;

/** The kinds of record written through a writer object, and their types. */
export interface WrittenRecords {
  client: ClientRecord;
  trusted_issuer: TrustedIssuerRecord;
}
export type RecordKind = keyof WrittenRecords;

/** A record (null: absent or deleted) and the version it has in the writer. */
export interface Versioned<T> {
  readonly version: number;
  readonly record: T | null;
}
export type VersionedClient = Versioned<ClientRecord>;

export type Outcome<T> =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly current: Versioned<T> };
export type CommitOutcome = Outcome<ClientRecord>;

/** The object (and row) name of a record: the client_id itself for clients, `<kind>:<id>` otherwise. */
const recordName = (kind: RecordKind, id: string) => (kind === "client" ? id : `${kind}:${id}`);

/** The KV side of one record kind. */
interface RecordTable<T> {
  put(id: string, record: T): Promise<void>;
  delete(id: string): Promise<void>;
  owns(id: string, record: T): boolean;
}

export class ClientWriter extends DurableObject<Env> {
  /** Commits run one after another, across the awaits of their KV writes. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The KV side of each record kind, built once for the object's lifetime. */
  readonly #tables: { readonly [K in RecordKind]: RecordTable<WrittenRecords[K]> };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#tables = kvTables(env.CLIENTS);
    void ctx.blockConcurrencyWhile(async () => this.#migrate());
  }

  /** The current client record and its version. */
  async read(clientId: string): Promise<VersionedClient> {
    return this.readRecord("client", clientId);
  }

  /**
   * Store `next` (null deletes) if the client record is still at `expectedVersion`.
   * @returns ok with the new version, or the current record when another change came first.
   * @throws when KV cannot be written (nothing changed then).
   */
  commit(clientId: string, expectedVersion: number, next: ClientRecord | null): Promise<CommitOutcome> {
    return this.commitRecord("client", clientId, expectedVersion, next);
  }

  /** The current record of `kind` named `id`, and its version. */
  async readRecord<K extends RecordKind>(kind: K, id: string): Promise<Versioned<WrittenRecords[K]>> {
    return this.#row<WrittenRecords[K]>(recordName(kind, id)) ?? { version: 0, record: null };
  }

  /** `commit` for a record of any kind. */
  commitRecord<K extends RecordKind>(kind: K, id: string, expectedVersion: number, next: WrittenRecords[K] | null): Promise<Outcome<WrittenRecords[K]>> {
    const run = this.#queue.then(() => this.#commit(kind, id, expectedVersion, next));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #commit<K extends RecordKind>(kind: K, id: string, expectedVersion: number, next: WrittenRecords[K] | null): Promise<Outcome<WrittenRecords[K]>> {
    const name = recordName(kind, id);
    const row = this.#row<WrittenRecords[K]>(name);
    const version = row?.version ?? 0;
    if (version !== expectedVersion) return { ok: false, current: row ?? { version: 0, record: null } };
    const table = this.#table(kind);
    if (next !== null && !table.owns(id, next)) throw new Error(`record does not belong to this ${kind}`);
    if (next === null) await table.delete(id);
    else await table.put(id, next);
    this.ctx.storage.sql.exec(
      "INSERT INTO client (slot, client_id, version, record) VALUES (1, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET version = excluded.version, record = excluded.record",
      name,
      version + 1,
      next === null ? null : JSON.stringify(next),
    );
    return { ok: true, version: version + 1 };
  }

  #table<K extends RecordKind>(kind: K): RecordTable<WrittenRecords[K]> {
    return this.#tables[kind];
  }

  #row<T>(name: string): Versioned<T> | null {
    const row = this.ctx.storage.sql
      .exec<{ client_id: string; version: number; record: string | null }>("SELECT client_id, version, record FROM client WHERE slot = 1")
      .toArray()[0];
    if (!row) return null;
    if (row.client_id !== name) throw new Error("record writer addressed with another name");
    return { version: row.version, record: row.record === null ? null : (JSON.parse(row.record) as T) };
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

/** What the registration logic needs from the writer of one record kind. */
export interface RecordWrites<T> {
  /** @throws OAuthError 503 when the writer cannot be reached. */
  read(id: string): Promise<Versioned<T>>;
  /**
   * Compare-and-set; on success the isolate's cache is updated at once.
   * @throws OAuthError 503 when the writer or KV cannot be reached (the change was not applied).
   */
  commit(id: string, expectedVersion: number, next: T | null): Promise<Outcome<T>>;
}
export type ClientWrites = RecordWrites<ClientRecord>;

/** ClientWrites over the `CLIENT_WRITER` namespace, one object per client_id. */
export function clientWriterStore(namespace: DurableObjectNamespace<ClientWriter>, registry: ClientRegistry): ClientWrites {
  return recordWriterStore(namespace, "client", registry);
}

/**
 * The KV side of each kind, read and written straight through (the object never reads a cache).
 * The readers' cache is updated once, by the caller's `RecordWrites` after a commit.
 */
function kvTables(kv: KVNamespace): { readonly [K in RecordKind]: RecordTable<WrittenRecords[K]> } {
  const clients = new ClientRegistry(kv);
  const issuers = new TrustedIssuerRegistry(kv);
  return {
    client: { put: (_id, r) => clients.put(r), delete: (id) => clients.delete(id), owns: (id, r) => r.client_id === id },
    trusted_issuer: { put: (_id, r) => issuers.put(r), delete: (id) => issuers.delete(id), owns: (id, r) => r.issuer === id },
  };
}

/**
 * RecordWrites of `kind` over the `CLIENT_WRITER` namespace, one object per record.
 * @param cache the registry this isolate's readers use (context.ts passes the same instance), so
 *   a committed change is visible to them at once.
 */
export function recordWriterStore<K extends RecordKind>(
  namespace: DurableObjectNamespace<ClientWriter>,
  kind: K,
  cache: { remember(id: string, record: WrittenRecords[K] | null): void },
): RecordWrites<WrittenRecords[K]> {
  const stub = (id: string) => namespace.get(namespace.idFromName(recordName(kind, id)));
  return {
    async read(id) {
      try {
        return (await stub(id).readRecord(kind, id)) as Versioned<WrittenRecords[K]>;
      } catch (cause) {
        throw unavailable(kind, cause);
      }
    },
    async commit(id, expectedVersion, next) {
      let outcome: Outcome<WrittenRecords[K]>;
      try {
        outcome = (await stub(id).commitRecord(kind, id, expectedVersion, next)) as Outcome<WrittenRecords[K]>;
      } catch (cause) {
        throw unavailable(kind, cause);
      }
      if (outcome.ok) cache.remember(id, next);
      return outcome;
    },
  };
}

function unavailable(kind: RecordKind, cause: unknown): OAuthError {
  console.error(JSON.stringify({ event: "client_writer_unavailable", kind, message: String(cause) }));
  return new OAuthError(kind === "client" ? "client_writer_unavailable" : "trusted_issuer_writer_unavailable");
}
