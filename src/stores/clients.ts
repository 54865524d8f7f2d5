/**
 * Client registrations in Workers KV under `client:<client_id>` (SPEC §6), read through a short
 * in-isolate cache. KV is eventually consistent (a write can take about 60 s to reach every
 * location) and this cache adds up to `CLIENT_CACHE_SECONDS`: README "Consistency" says what that
 * means for disabling a client.
 *
 * A missing record is `null`; a KV outage (a read, write or listing that fails, or a record that
 * cannot be parsed) throws OAuthError 503, never "unknown client" and never a bare 500.
 */
import type { JWK } from "jose";
import { OAuthError } from "../core/errors.js";
import { CLIENT_KEY_PREFIX as KEY_PREFIX, clientKey, fitsKv } from "./kv-keys.js";
import type { ClientRecord } from "../core/client-record.js";

/** In-isolate cache lifetime for client records (and for "no such client"). */
export const CLIENT_CACHE_SECONDS = 10;
/** How long one request's re-read of an expired record holds the others on the stale one. */
export const CLIENT_REFRESH_GRACE_MS = 5_000;


interface CacheEntry {
  record: ClientRecord | null;
  until: number;
  /** Set while one request re-reads this expired entry (ms since epoch). */
  refreshingSince?: number;
}

export interface ClientPage {
  clients: ClientRecord[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  next_cursor?: string;
}

/** What readers of registrations need (routes, client authentication); local dev decorates it. */
export type ClientLookup = Pick<ClientRegistry, "get" | "list">;

export class ClientRegistry {
  /** Per KV namespace, one cache per isolate. */
  static #caches = new WeakMap<KVNamespace, Map<string, CacheEntry>>();
  readonly #kv: KVNamespace;
  readonly #cache: Map<string, CacheEntry>;
  readonly #now: () => number;

  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
    let cache = ClientRegistry.#caches.get(kv);
    if (!cache) ClientRegistry.#caches.set(kv, (cache = new Map()));
    this.#cache = cache;
  }

  /**
   * The client, or null when unknown. Served from the isolate cache for up to CLIENT_CACHE_SECONDS.
   * When an entry expires, the first request re-reads KV and the requests that arrive meanwhile
   * keep the stale entry (for at most CLIENT_REFRESH_GRACE_MS), so a busy isolate sends one KV read
   * per client per period, not a burst. No request waits on another's read: workerd does not let
   * one request use another's I/O, and the re-reading request may be cancelled.
   */
  async get(clientId: string): Promise<ClientRecord | null> {
    const now = this.#now();
    const hit = this.#cache.get(clientId);
    if (hit && hit.until > now) return hit.record;
    if (hit?.refreshingSince !== undefined && now - hit.refreshingSince < CLIENT_REFRESH_GRACE_MS) return hit.record;
    if (hit) hit.refreshingSince = now;
    let record: ClientRecord | null;
    try {
      record = await this.#read(clientId);
    } catch (cause) {
      if (hit) hit.refreshingSince = undefined;
      throw cause;
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(clientId, { record, until: this.#now() + CLIENT_CACHE_SECONDS * 1000 });
    return record;
  }

  /** The client straight from KV, bypassing the cache (admin reads). */
  async getFresh(clientId: string): Promise<ClientRecord | null> {
    return this.#read(clientId);
  }

  /** KV write of the writer of record only (stores/client-writer.ts); readers' caches learn it through remember(). */
  async put(record: ClientRecord): Promise<void> {
    await unavailableOnFailure("put", () => this.#kv.put(clientKey(record.client_id), JSON.stringify(record)));
  }

  async delete(clientId: string): Promise<void> {
    await unavailableOnFailure("delete", () => this.#kv.delete(clientKey(clientId)));
  }

  /** Update this isolate's cache after a change written elsewhere (stores/client-writer.ts). */
  remember(clientId: string, record: ClientRecord | null): void {
    this.#cache.set(clientId, { record, until: this.#now() + CLIENT_CACHE_SECONDS * 1000 });
  }

  /**
   * One page of clients in client_id order.
   * @throws OAuthError invalid_request for a cursor KV refuses, 503 when KV is unavailable. */
  async list(limit: number, cursor?: string): Promise<ClientPage> {
    let page: KVNamespaceListResult<unknown, string>;
    try {
      page = await this.#kv.list({ prefix: KEY_PREFIX, limit, cursor });
    } catch (cause) {
      if (cursor !== undefined) throw new OAuthError("client_list_cursor_invalid");
      console.error(JSON.stringify({ event: "client_store_unavailable", operation: "list", message: String(cause) }));
      throw unavailable();
    }
    const records = await Promise.all(page.keys.map((k) => this.getFresh(k.name.slice(KEY_PREFIX.length))));
    const clients = records.filter((r): r is ClientRecord => r !== null);
    return page.list_complete ? { clients } : { clients, next_cursor: page.cursor };
  }

  async #read(clientId: string): Promise<ClientRecord | null> {
    const key = clientKey(clientId);
    // A key too long for KV names no client: unknown, not an outage (a 256-character non-ASCII
    // client_id used to be a 503; found by test/fuzz/token-form.test.ts).
    if (!fitsKv(key)) return null;
    const text = await unavailableOnFailure("get", () => this.#kv.get(key, "text"));
    if (text === null) return null;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (!looksLikeClientRecord(record)) {
      console.error(JSON.stringify({ event: "client_record_unreadable", client_id: clientId.slice(0, 128) }));
      throw unavailable();
    }
    return record;
  }
}

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
    (r.jwks === undefined || (typeof r.jwks === "object" && r.jwks !== null && Array.isArray((r.jwks as { keys?: unknown }).keys)))
  );
}

/** Run one KV operation; a failure is logged (without values) and becomes a 503. */
async function unavailableOnFailure<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    console.error(JSON.stringify({ event: "client_store_unavailable", operation, message: String(cause) }));
    throw unavailable(operation === "put" || operation === "delete" ? "updated" : "read");
  }
}

function unavailable(what: "read" | "updated" = "read"): OAuthError {
  return new OAuthError("client_store_unavailable", what);
}
