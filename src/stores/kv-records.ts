/**
 * The one cached KV record store: registry records (clients, SPEC §6; trusted issuers, SPEC §9)
 * in Workers KV under their kind's prefix (kv-keys.ts), read through a short in-isolate cache.
 * KV is eventually consistent (a write can take about 60 s to reach every location) and the cache
 * adds up to RECORD_CACHE_SECONDS: README "Consistency" says what that means for disabling a
 * client. Records are written only by the writer of record (registry-writer.ts).
 *
 * A missing record is `null`; a KV outage (a read, write or listing that fails, or a record that
 * cannot be parsed) throws OAuthError 503, never "unknown" and never a bare 500.
 */
import { OAuthError } from "../core/errors.js";
import { fitsKv } from "./kv-keys.js";

/** In-isolate cache lifetime for a record (and for "no such record"). */
export const RECORD_CACHE_SECONDS = 10;
/** How long one request's re-read of an expired record holds the others on the stale one. */
export const RECORD_REFRESH_GRACE_MS = 5_000;
/** Entries per KV namespace and isolate before the cache starts over. */
const MAX_CACHED_RECORDS = 10_000;

/** What differs between the kinds of record the store holds. */
export interface RecordKind<T, ListName extends string> {
  /** `client`, `trusted_issuer`: names the kind's error reasons and log events. */
  readonly name: "client" | "trusted_issuer";
  /** KV key prefix (kv-keys.ts). */
  readonly prefix: string;
  /** The field a page of records is listed under (`clients`, `trusted_issuers`). */
  readonly listName: ListName;
  readonly idOf: (record: T) => string;
  /** The fields every reader relies on have their types. */
  readonly isRecord: (value: unknown) => value is T;
}

/** One page of records in id order; `next_cursor` is absent on the last page. */
export type RecordPage<T, ListName extends string> = { [K in ListName]: T[] } & { next_cursor?: string };

interface CacheEntry {
  record: unknown;
  until: number;
  /** Set while one request re-reads this expired entry (ms since epoch). */
  refreshingSince?: number;
}

export class KvRecordStore<T, ListName extends string> {
  /** Per KV namespace, one cache per isolate, keyed by KV key (so kinds never meet). */
  static #caches = new WeakMap<KVNamespace, Map<string, CacheEntry>>();
  readonly #kv: KVNamespace;
  readonly #kind: RecordKind<T, ListName>;
  readonly #cache: Map<string, CacheEntry>;
  readonly #now: () => number;

  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, kind: RecordKind<T, ListName>, now: () => number = Date.now) {
    this.#kv = kv;
    this.#kind = kind;
    this.#now = now;
    let cache = KvRecordStore.#caches.get(kv);
    if (!cache) KvRecordStore.#caches.set(kv, (cache = new Map()));
    this.#cache = cache;
  }

  /**
   * The record, or null when unknown. Served from the isolate cache for up to RECORD_CACHE_SECONDS.
   * When an entry expires, the first request re-reads KV and the requests that arrive meanwhile
   * keep the stale entry (for at most RECORD_REFRESH_GRACE_MS), so a busy isolate sends one KV read
   * per record per period, not a burst. No request waits on another's read: workerd does not let
   * one request use another's I/O, and the re-reading request may be cancelled.
   */
  async get(id: string): Promise<T | null> {
    const now = this.#now();
    const hit = this.#cache.get(this.#key(id));
    if (hit && hit.until > now) return hit.record as T | null;
    if (hit?.refreshingSince !== undefined && now - hit.refreshingSince < RECORD_REFRESH_GRACE_MS) return hit.record as T | null;
    if (hit) hit.refreshingSince = now;
    let record: T | null;
    try {
      record = await this.getFresh(id);
    } catch (cause) {
      if (hit) hit.refreshingSince = undefined;
      throw cause;
    }
    this.remember(id, record);
    return record;
  }

  /** The record straight from KV, bypassing the cache (listing, the writer). */
  async getFresh(id: string): Promise<T | null> {
    const key = this.#key(id);
    // A key too long for KV names no record: unknown, not an outage (a 256-character non-ASCII
    // client_id was once a 503; found by test/fuzz/token-form.test.ts).
    if (!fitsKv(key)) return null;
    const text = await this.#kvCall("get", () => this.#kv.get(key, "text"));
    if (text === null) return null;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (!this.#kind.isRecord(record)) {
      console.error(JSON.stringify({ event: `${this.#kind.name}_record_unreadable`, id: id.slice(0, 128) }));
      throw this.#unavailable("read");
    }
    return record;
  }

  /** KV write of the writer of record only; readers' caches learn it through remember(). */
  async put(record: T): Promise<void> {
    await this.#kvCall("put", () => this.#kv.put(this.#key(this.#kind.idOf(record)), JSON.stringify(record)));
  }

  async delete(id: string): Promise<void> {
    await this.#kvCall("delete", () => this.#kv.delete(this.#key(id)));
  }

  /** Update this isolate's cache after a change written elsewhere (the writer of record). */
  remember(id: string, record: T | null): void {
    if (this.#cache.size > MAX_CACHED_RECORDS) this.#cache.clear();
    this.#cache.set(this.#key(id), { record, until: this.#now() + RECORD_CACHE_SECONDS * 1000 });
  }

  /**
   * One page of records in id order, read from KV (not the cache).
   * @throws OAuthError invalid_request for a cursor KV refuses, 503 when KV is unavailable.
   */
  async list(limit: number, cursor?: string): Promise<RecordPage<T, ListName>> {
    const { prefix, name, listName } = this.#kind;
    let page: KVNamespaceListResult<unknown, string>;
    try {
      page = await this.#kv.list({ prefix, limit, cursor });
    } catch (cause) {
      if (cursor !== undefined) throw new OAuthError(`${name}_list_cursor_invalid`);
      this.#log("list", cause);
      throw this.#unavailable("read");
    }
    const read = await Promise.all(page.keys.map((k) => this.getFresh(k.name.slice(prefix.length))));
    const records = read.filter((r) => r !== null) as T[];
    const listed = { [listName]: records } as { [K in ListName]: T[] };
    return page.list_complete ? listed : { ...listed, next_cursor: page.cursor };
  }

  #key(id: string): string {
    return `${this.#kind.prefix}${id}`;
  }

  /** Run one KV operation; a failure is logged (without values) and becomes a 503. */
  async #kvCall<R>(operation: "get" | "put" | "delete", run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (cause) {
      this.#log(operation, cause);
      throw this.#unavailable(operation === "get" ? "read" : "updated");
    }
  }

  #log(operation: string, cause: unknown): void {
    console.error(JSON.stringify({ event: `${this.#kind.name}_store_unavailable`, operation, message: String(cause) }));
  }

  #unavailable(what: "read" | "updated"): OAuthError {
    return new OAuthError(`${this.#kind.name}_store_unavailable`, what);
  }
}
