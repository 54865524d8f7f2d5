/**
 * Which clients have a federated credential for an issuer that allows the JWT bearer grant
 * (SPEC §13), so that a grant request, which names no client, reads a short list instead of every
 * client: one KV key per (issuer, client), `jwt-bearer:<hash of the issuer>:<client_id>` (kv-keys.ts).
 *
 * Written only by the client's writer of record (registry-writer.ts), around the record's own KV
 * write: keys a change adds are written before the record, keys it drops are deleted after it. So
 * each key is written by one client's object only (no lost update between clients), and the
 * index never lacks a client whose stored record has such a credential; a key it keeps too long
 * (a failed delete) names a client whose record no longer matches, and the grant re-reads every
 * listed record (jwt-bearer.ts), so an extra key costs a record read, never a wrong token.
 *
 * Read with a KV listing per issuer through an in-isolate cache of RECORD_CACHE_SECONDS, like
 * client records (README "Consistency": a new credential reaches every location within about 70 s).
 */
import { OAuthError } from "../core/errors.js";
import { credentialAllows, type FederatedCredential } from "../core/federation.js";
import type { ClientRecord } from "../core/client-record.js";
import { RECORD_CACHE_SECONDS, RECORD_REFRESH_GRACE_MS } from "./kv-records.js";
import { jwtBearerIndexKey, jwtBearerIssuerPrefix } from "./kv-keys.js";

/** What the JWT bearer grant reads. */
export interface JwtBearerClients {
  /**
   * The client_ids that may have a jwt_bearer credential for `issuer` (a superset: re-check each record).
   * @throws OAuthError 503 when KV cannot be listed.
   */
  clientsFor(issuer: string): Promise<readonly string[]>;
}

/** The issuers of a record's credentials that allow the JWT bearer grant. */
export function jwtBearerIssuers(record: Pick<ClientRecord, "federated_credentials"> | null): Set<string> {
  const credentials: readonly FederatedCredential[] = record?.federated_credentials ?? [];
  return new Set(credentials.filter((c) => credentialAllows(c, "jwt_bearer")).map((c) => c.issuer));
}

interface IndexEntry {
  clientIds: readonly string[];
  until: number;
  /** Set while one request lists this expired entry again (ms since epoch). */
  refreshingSince?: number;
}

export class JwtBearerIndex implements JwtBearerClients {
  static #caches = new WeakMap<KVNamespace, Map<string, IndexEntry>>();
  readonly #kv: KVNamespace;
  readonly #cache: Map<string, IndexEntry>;
  readonly #now: () => number;

  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
    let cache = JwtBearerIndex.#caches.get(kv);
    if (!cache) JwtBearerIndex.#caches.set(kv, (cache = new Map()));
    this.#cache = cache;
  }

  /**
   * The client ids indexed under `issuer`. As in kv-records.ts: when a listing expires, the first
   * request lists again and the requests that arrive meanwhile keep the stale one (for at most
   * RECORD_REFRESH_GRACE_MS), so a busy isolate sends one listing per issuer per period.
   */
  async clientsFor(issuer: string): Promise<readonly string[]> {
    const now = this.#now();
    const hit = this.#cache.get(issuer);
    if (hit && hit.until > now) return hit.clientIds;
    if (hit?.refreshingSince !== undefined && now - hit.refreshingSince < RECORD_REFRESH_GRACE_MS) return hit.clientIds;
    if (hit) hit.refreshingSince = now;
    const prefix = await jwtBearerIssuerPrefix(issuer);
    const clientIds: string[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page: KVNamespaceListResult<unknown, string> = await this.#kv.list({ prefix, cursor });
        for (const key of page.keys) clientIds.push(key.name.slice(prefix.length));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor !== undefined);
    } catch (cause) {
      if (hit) hit.refreshingSince = undefined;
      console.error(JSON.stringify({ event: "client_store_unavailable", operation: "list", message: String(cause) }));
      throw new OAuthError("client_store_unavailable", "read");
    }
    if (this.#cache.size > 1_000) this.#cache.clear();
    this.#cache.set(issuer, { clientIds, until: this.#now() + RECORD_CACHE_SECONDS * 1000 });
    return clientIds;
  }

  /** Drop this isolate's cached listings after a client change written here (context.ts). */
  forget(): void {
    this.#cache.clear();
  }

  /** Before `next` is written: the keys it adds. @throws when KV fails (nothing is committed then). */
  async addKeys(clientId: string, previous: ClientRecord | null, next: ClientRecord | null): Promise<void> {
    const before = jwtBearerIssuers(previous);
    const added = [...jwtBearerIssuers(next)].filter((issuer) => !before.has(issuer));
    await Promise.all(added.map(async (issuer) => this.#kv.put(await jwtBearerIndexKey(issuer, clientId), "")));
  }

  /** After `next` is written: the keys it drops. A failure is logged, not thrown (an extra key is harmless). */
  async removeKeys(clientId: string, previous: ClientRecord | null, next: ClientRecord | null): Promise<void> {
    const after = jwtBearerIssuers(next);
    const dropped = [...jwtBearerIssuers(previous)].filter((issuer) => !after.has(issuer));
    try {
      await Promise.all(dropped.map(async (issuer) => this.#kv.delete(await jwtBearerIndexKey(issuer, clientId))));
    } catch (cause) {
      console.error(JSON.stringify({ event: "jwt_bearer_index_stale", client_id: clientId, message: String(cause) }));
    }
  }
}
