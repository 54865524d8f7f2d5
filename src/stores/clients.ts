/**
 * Client registrations (SPEC §6) in Workers KV under `client:<client_id>`, read through the one
 * cached record store (kv-records.ts: in-isolate cache, single-flight refresh, listing) and written
 * only by the writer of record (registry-writer.ts).
 */
import type { ClientRecord } from "../core/client-record.js";
import { CLIENT_KEY_PREFIX } from "./kv-keys.js";
import { KvRecordStore, type RecordKind } from "./kv-records.js";

const CLIENTS: RecordKind<ClientRecord, "clients"> = {
  name: "client",
  prefix: CLIENT_KEY_PREFIX,
  listName: "clients",
  idOf: (record) => record.client_id,
  isRecord: looksLikeClientRecord,
};

/** The registry of clients: KV `client:<id>` through the isolate cache. */
export class ClientRegistry extends KvRecordStore<ClientRecord, "clients"> {
  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, now?: () => number) {
    super(kv, CLIENTS, now);
  }
}

/** What readers of registrations need (routes, client authentication); local dev decorates it. */
export type ClientLookup = Pick<ClientRegistry, "get" | "list">;

/** The fields every reader relies on have their types (records are written only by put()). */
function looksLikeClientRecord(value: unknown): value is ClientRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.client_id === "string" &&
    typeof r.token_endpoint_auth_method === "string" &&
    typeof r.scope === "string" &&
    Array.isArray(r.grant_types) &&
    Array.isArray(r.resources) &&
    Number.isInteger(r.replay_guard_shards) &&
    (r.jwks === undefined || (typeof r.jwks === "object" && r.jwks !== null && Array.isArray((r.jwks as { keys?: unknown }).keys)))
  );
}
