/**
 * The writer of record of the registry (clients, SPEC §6; trusted issuers, SPEC §9): one
 * SQLite-backed Durable Object per record, named `<kind>:<id>`, through which every admin change
 * passes. KV has no compare-and-set, so two admin requests that read-modify-write one record could
 * silently lose a change; here every change is a versioned compare-and-set against the object's
 * own copy, applied one at a time.
 *
 * - `read(kind, id)` answers the object's copy (read-your-writes for operators); a record never
 *   written is absent at version 0 (records are written through their object, never into KV).
 * - `commit(kind, id, expected, next)` applies `next` only if the version is still `expected`: it
 *   writes KV first (the fast global read path, kv-records.ts), then its own copy with version + 1.
 *   A KV failure leaves both unchanged. A deletion keeps a tombstone, so a stale KV read can never
 *   bring a deleted record back; a deleted client's tombstone keeps its replay-guard topology
 *   (SPEC §10), which a client created under the same client_id inherits.
 *
 * A client change also keeps the JWT bearer grant's index (SPEC §13, jwt-bearer-index.ts): the
 * index keys it adds are written before the record, the ones it drops deleted after it.
 *
 * The change itself (validation, merging) is computed by the caller (oauth/registration/: parse →
 * mutate, then apply.ts) and retried on conflict, so this object holds no OAuth rules.
 */
import { DurableObject } from "cloudflare:workers";
import { systemClock } from "../clock.js";
import { OAuthError } from "../core/errors.js";
import type { ClientRecord, DeletedClient } from "../core/client-record.js";
import type { TrustedIssuerRecord } from "../core/federation.js";
import { ClientRegistry } from "./clients.js";
import { JwtBearerIndex } from "./jwt-bearer-index.js";
import { TrustedIssuerRegistry } from "./trusted-issuers.js";

const SCHEMA_VERSION = 1;

/** The kinds of record in the registry: the record, and what its tombstone keeps. */
export interface RegistryKinds {
  client: { record: ClientRecord; tombstone: DeletedClient };
  trusted_issuer: { record: TrustedIssuerRecord; tombstone: never };
}
export type RegistryKind = keyof RegistryKinds;
type RecordOf<K extends RegistryKind> = RegistryKinds[K]["record"];
type TombstoneOf<K extends RegistryKind> = RegistryKinds[K]["tombstone"];

/** A record (null: absent or deleted), its version in the writer, and what a deletion left. */
export interface Versioned<T, Tombstone = never> {
  readonly version: number;
  readonly record: T | null;
  readonly tombstone?: Tombstone;
}

export type Outcome<T, Tombstone = never> =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly current: Versioned<T, Tombstone> };

/** The KV side of one kind, and what a deletion of one of its records keeps. */
interface KindStore<T, Tombstone> {
  readonly kv: { put(record: T): Promise<void>; delete(id: string): Promise<void> };
  readonly idOf: (record: T) => string;
  readonly tombstoneOf: (deleted: T, now: number) => Tombstone | undefined;
}

export class RegistryWriter extends DurableObject<Env> {
  /** Commits run one after another, across the awaits of their KV writes. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #kinds: { readonly [K in RegistryKind]: KindStore<RecordOf<K>, TombstoneOf<K>> };
  readonly #jwtBearerIndex: JwtBearerIndex;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#jwtBearerIndex = new JwtBearerIndex(env.CLIENTS);
    // Straight to KV (the object never reads a cache); readers' caches learn a change from the
    // caller's RecordWrites after the commit.
    this.#kinds = {
      client: { kv: new ClientRegistry(env.CLIENTS), idOf: (r) => r.client_id, tombstoneOf: deletedClient },
      trusted_issuer: { kv: new TrustedIssuerRegistry(env.CLIENTS), idOf: (r) => r.issuer, tombstoneOf: () => undefined },
    };
    void ctx.blockConcurrencyWhile(async () => this.#migrate());
  }

  /** The current record of `kind` named `id`, its version and tombstone. */
  read<K extends RegistryKind>(kind: K, id: string): Versioned<RecordOf<K>, TombstoneOf<K>> {
    return this.#row<RecordOf<K>, TombstoneOf<K>>(registryName(kind, id)) ?? { version: 0, record: null };
  }

  /**
   * Store `next` (null deletes) if the record is still at `expectedVersion`.
   * @returns ok with the new version, or the current record when another change came first.
   * @throws when KV cannot be written (nothing changed then).
   */
  commit<K extends RegistryKind>(kind: K, id: string, expectedVersion: number, next: RecordOf<K> | null): Promise<Outcome<RecordOf<K>, TombstoneOf<K>>> {
    const run = this.#queue.then(() => this.#commit(kind, id, expectedVersion, next));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #commit<K extends RegistryKind>(kind: K, id: string, expectedVersion: number, next: RecordOf<K> | null): Promise<Outcome<RecordOf<K>, TombstoneOf<K>>> {
    const current = this.read(kind, id);
    if (current.version !== expectedVersion) return { ok: false, current };
    const store = this.#kinds[kind] as KindStore<RecordOf<K>, TombstoneOf<K>>;
    if (next !== null && store.idOf(next) !== id) throw new Error(`record does not belong to this ${kind}`);
    // SPEC §13: the JWT bearer grant's index of a client's jwt_bearer credentials, around the record.
    const previousClient = kind === "client" ? (current.record as ClientRecord | null) : null;
    if (kind === "client") await this.#jwtBearerIndex.addKeys(id, previousClient, next as ClientRecord | null);
    if (next === null) await store.kv.delete(id);
    else await store.kv.put(next);
    if (kind === "client") await this.#jwtBearerIndex.removeKeys(id, previousClient, next as ClientRecord | null);
    const tombstone = next !== null ? undefined : current.record !== null ? store.tombstoneOf(current.record, systemClock()) : current.tombstone;
    this.ctx.storage.sql.exec(
      "INSERT INTO records (slot, name, version, record, tombstone) VALUES (1, ?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET version = excluded.version, record = excluded.record, tombstone = excluded.tombstone",
      registryName(kind, id),
      current.version + 1,
      next === null ? null : JSON.stringify(next),
      tombstone === undefined ? null : JSON.stringify(tombstone),
    );
    return { ok: true, version: current.version + 1 };
  }

  #row<T, Tombstone>(name: string): Versioned<T, Tombstone> | null {
    const row = this.ctx.storage.sql
      .exec<{ name: string; version: number; record: string | null; tombstone: string | null }>("SELECT name, version, record, tombstone FROM records WHERE slot = 1")
      .toArray()[0];
    if (!row) return null;
    if (row.name !== name) throw new Error("registry writer addressed with another name");
    const record = row.record === null ? null : (JSON.parse(row.record) as T);
    return row.tombstone === null ? { version: row.version, record } : { version: row.version, record, tombstone: JSON.parse(row.tombstone) as Tombstone };
  }

  #migrate(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'schema_version'").toArray()[0];
    if ((row?.value ?? 0) < 1) {
      sql.exec("CREATE TABLE IF NOT EXISTS records (slot INTEGER PRIMARY KEY CHECK (slot = 1), name TEXT NOT NULL, version INTEGER NOT NULL, record TEXT, tombstone TEXT)");
      sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", SCHEMA_VERSION);
    }
  }
}

/** The object (and row) name of a record. */
const registryName = (kind: RegistryKind, id: string) => `${kind}:${id}`;

/** SPEC §10: what a deleted client's tombstone keeps: its replay-guard topologies, and when. */
function deletedClient(record: ClientRecord, now: number): DeletedClient {
  const { replay_guard_shards, replay_guard_location, replay_guard_previous } = record;
  return {
    replay_guard_shards,
    ...(replay_guard_location === undefined ? {} : { replay_guard_location }),
    ...(replay_guard_previous === undefined ? {} : { replay_guard_previous }),
    deleted_at: now,
  };
}

/** What the registration logic needs from the writer of one record kind. */
export interface RecordWrites<T, Tombstone = never> {
  /** @throws OAuthError 503 when the writer cannot be reached. */
  read(id: string): Promise<Versioned<T, Tombstone>>;
  /**
   * Compare-and-set; on success the isolate's cache is updated at once.
   * @throws OAuthError 503 when the writer or KV cannot be reached (the change was not applied).
   */
  commit(id: string, expectedVersion: number, next: T | null): Promise<Outcome<T, Tombstone>>;
}
export type ClientWrites = RecordWrites<ClientRecord, DeletedClient>;

/**
 * RecordWrites of `kind` over the `REGISTRY_WRITER` namespace, one object per record.
 * @param cache the store this isolate's readers use (context.ts passes the same instance), so a
 *   committed change is visible to them at once.
 */
export function registryWrites<K extends RegistryKind>(
  namespace: DurableObjectNamespace<RegistryWriter>,
  kind: K,
  cache: { remember(id: string, record: RecordOf<K> | null): void },
): RecordWrites<RecordOf<K>, TombstoneOf<K>> {
  const stub = (id: string) => namespace.get(namespace.idFromName(registryName(kind, id)));
  const unavailable = (cause: unknown) => {
    console.error(JSON.stringify({ event: "registry_writer_unavailable", kind, message: String(cause) }));
    return new OAuthError("registry_writer_unavailable", kind === "client" ? "client registry" : "trusted issuer store");
  };
  return {
    async read(id) {
      try {
        return (await stub(id).read(kind, id)) as Versioned<RecordOf<K>, TombstoneOf<K>>;
      } catch (cause) {
        throw unavailable(cause);
      }
    },
    async commit(id, expectedVersion, next) {
      let outcome: Outcome<RecordOf<K>, TombstoneOf<K>>;
      try {
        outcome = (await stub(id).commit(kind, id, expectedVersion, next)) as Outcome<RecordOf<K>, TombstoneOf<K>>;
      } catch (cause) {
        throw unavailable(cause);
      }
      if (outcome.ok) cache.remember(id, next);
      return outcome;
    },
  };
}
