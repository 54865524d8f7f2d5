/**
 * Trusted issuers (SPEC §9) in Workers KV under `trusted-issuer:<issuer>`, beside the client
 * registry and written only through the writer of record (stores/client-writer.ts), read on every
 * federated request through a short in-isolate cache (as client records: README "Consistency").
 *
 * A missing record is `null`; a KV outage throws OAuthError 503, never "unknown issuer".
 */
import type { TrustedIssuerRecord } from "../core/federation.js";
import { OAuthError } from "../core/errors.js";
import { CLIENT_CACHE_SECONDS } from "./clients.js";
import { fitsKv, TRUSTED_ISSUER_KEY_PREFIX, trustedIssuerKey } from "./kv-keys.js";

export interface TrustedIssuerPage {
  trusted_issuers: TrustedIssuerRecord[];
  next_cursor?: string;
}

/** What client authentication needs: one issuer by its exact `iss`. */
export interface TrustedIssuers {
  /** @throws OAuthError 503 when KV cannot be read. */
  get(issuer: string): Promise<TrustedIssuerRecord | null>;
}

export class TrustedIssuerRegistry implements TrustedIssuers {
  static #caches = new WeakMap<KVNamespace, Map<string, { record: TrustedIssuerRecord | null; until: number }>>();
  readonly #kv: KVNamespace;
  readonly #cache: Map<string, { record: TrustedIssuerRecord | null; until: number }>;
  readonly #now: () => number;

  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
    let cache = TrustedIssuerRegistry.#caches.get(kv);
    if (!cache) TrustedIssuerRegistry.#caches.set(kv, (cache = new Map()));
    this.#cache = cache;
  }

  /** The issuer, or null when not trusted; cached for CLIENT_CACHE_SECONDS. */
  async get(issuer: string): Promise<TrustedIssuerRecord | null> {
    const hit = this.#cache.get(issuer);
    if (hit && hit.until > this.#now()) return hit.record;
    const record = await this.getFresh(issuer);
    this.remember(issuer, record);
    return record;
  }

  /** Straight from KV, bypassing the cache. */
  async getFresh(issuer: string): Promise<TrustedIssuerRecord | null> {
    const key = trustedIssuerKey(issuer);
    if (!fitsKv(key)) return null;
    const text = await unavailableOnFailure("get", () => this.#kv.get(key, "text"));
    if (text === null) return null;
    try {
      const record = JSON.parse(text) as TrustedIssuerRecord;
      if (typeof record.issuer === "string" && Array.isArray(record.allowed_algs)) return record;
    } catch {
      // fall through: unreadable
    }
    console.error(JSON.stringify({ event: "trusted_issuer_unreadable" }));
    throw unavailable("read");
  }

  /** KV write of the writer of record only (stores/client-writer.ts); readers' caches learn it through remember(). */
  async put(record: TrustedIssuerRecord): Promise<void> {
    await unavailableOnFailure("put", () => this.#kv.put(trustedIssuerKey(record.issuer), JSON.stringify(record)));
  }

  async delete(issuer: string): Promise<void> {
    await unavailableOnFailure("delete", () => this.#kv.delete(trustedIssuerKey(issuer)));
  }

  /** Update this isolate's cache after a change written elsewhere. */
  remember(issuer: string, record: TrustedIssuerRecord | null): void {
    if (this.#cache.size > 1_000) this.#cache.clear();
    this.#cache.set(issuer, { record, until: this.#now() + CLIENT_CACHE_SECONDS * 1000 });
  }

  /** One page in issuer order. @throws OAuthError invalid_request for a bad cursor, 503 when KV fails. */
  async list(limit: number, cursor?: string): Promise<TrustedIssuerPage> {
    let page: KVNamespaceListResult<unknown, string>;
    try {
      page = await this.#kv.list({ prefix: TRUSTED_ISSUER_KEY_PREFIX, limit, cursor });
    } catch (cause) {
      if (cursor !== undefined) throw new OAuthError("trusted_issuer_list_cursor_invalid");
      console.error(JSON.stringify({ event: "trusted_issuer_store_unavailable", operation: "list", message: String(cause) }));
      throw unavailable("read");
    }
    const records = await Promise.all(page.keys.map((k) => this.getFresh(k.name.slice(TRUSTED_ISSUER_KEY_PREFIX.length))));
    const trusted_issuers = records.filter((r): r is TrustedIssuerRecord => r !== null);
    return page.list_complete ? { trusted_issuers } : { trusted_issuers, next_cursor: page.cursor };
  }
}

async function unavailableOnFailure<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    console.error(JSON.stringify({ event: "trusted_issuer_store_unavailable", operation, message: String(cause) }));
    throw unavailable(operation === "get" ? "read" : "updated");
  }
}

function unavailable(what: "read" | "updated"): OAuthError {
  return new OAuthError("trusted_issuer_store_unavailable", what);
}
