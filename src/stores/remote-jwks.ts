/**
 * The ClientKeySource of the running service (SPEC §3 rule 4, §6): a client's inline `jwks`, or
 * the JWK Set at its `jwks_uri`, fetched under strict limits and cached.
 *
 * - Only URLs core/addresses.js allows: https to a public host; loopback (http or https) only in
 *   local dev. Checked before the cache is consulted and before any fetch.
 * - At most JWKS_MAX_BYTES (enforced while streaming, whatever Content-Length says), at most
 *   JWKS_FETCH_TIMEOUT_MS for the whole exchange, `redirect: "manual"` (a 3xx is a failure: no hop
 *   to another host): see bounded-fetch.ts.
 * - Cached in the isolate and in the Cache API for JWKS_CACHE_TTL_SECONDS; a set read back from
 *   the Cache API is used only if this Worker wrote it (an HMAC tag, shared-key-set-cache.ts: any
 *   Worker on the zone can write that cache) and is validated again as when it was fetched. An unknown `kid`
 *   triggers a refetch at most every JWKS_REFETCH_MIN_INTERVAL_SECONDS per client (and per isolate),
 *   so a flood of assertions with made-up kids cannot turn the server into a fetch amplifier.
 * - After a failed fetch the failure is remembered for JWKS_FAILURE_BACKOFF_SECONDS.
 * - Every failure is `invalid_client` (assertion_jwks_unavailable or assertion_jwks_invalid) with a
 *   log line naming the problem, never a 500. Expired sets are not served stale: fail closed.
 */
import type { JWK } from "jose";
import { fetchUrlProblem, type AddressPolicy } from "../core/addresses.js";
import { OAuthError } from "../core/errors.js";
import { parseRemoteJwks } from "../core/jwk-set.js";
import { inlineKeySource, type ClientKeySource } from "../core/key-sources.js";
import { BoundedFetchError, fetchTextBounded, type FetchLike, type FetchLimits } from "./bounded-fetch.js";
import { KeySetFailure, keySetCache } from "./key-set-cache.js";
import { sharedKeySetCache } from "./shared-key-set-cache.js";
import type { ClientRecord } from "../core/client-record.js";

export type { FetchLike } from "./bounded-fetch.js";

/** Largest accepted JWK Set document. */
export const JWKS_MAX_BYTES = 64 * 1024;
/** Longest wait for a jwks_uri (connect, headers and body). */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
export { JWKS_CACHE_TTL_SECONDS, JWKS_FAILURE_BACKOFF_SECONDS, JWKS_REFETCH_MIN_INTERVAL_SECONDS } from "./key-set-cache.js";

const CACHE_KEY_ORIGIN = "https://client-jwks.cache.invalid";

export interface RemoteJwksOptions {
  /** Which URLs may be fetched: loopback ones (http or https) in local dev only (src/local-dev.ts). */
  readonly addressPolicy: AddressPolicy;
  /** Outbound fetch. Default: the global `fetch`, looked up at call time. */
  readonly fetch?: FetchLike;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly nowMs?: () => number;
  /** The shared cache, or null for none. Default: `caches.default` where it exists. */
  readonly sharedCache?: () => Promise<Cache | null>;
  /**
   * The secret shared-cache entries are authenticated under (CLIENT_SECRET_KEY): only entries this
   * Worker wrote are used. Without it the shared cache is not used (shared-key-set-cache.ts).
   */
  readonly sharedCacheSecret?: () => Promise<string>;
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
}

/** A ClientKeySource: inline `jwks` as registered, `jwks_uri` fetched and cached as above. */
export function remoteJwksKeySource(options: RemoteJwksOptions): ClientKeySource {
  const cache = keySetCache({
    nowMs: options.nowMs ?? (() => Date.now()),
    unavailable: "assertion_jwks_unavailable",
  });
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const shared = sharedKeySetCache({ cache: options.sharedCache ?? defaultSharedCache, secret: options.sharedCacheSecret });
  const limits = { maxBytes: options.maxBytes ?? JWKS_MAX_BYTES, timeoutMs: options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS };

  return {
    async keysOf(client, refresh) {
      if (client.jwks_uri === undefined) return inlineKeySource.keysOf(client, refresh);
      const uri = client.jwks_uri;
      // SPEC §6: a record that got into KV around the admin API is held to the same address rules.
      const addressProblem = fetchUrlProblem(uri, options.addressPolicy);
      if (addressProblem !== undefined) {
        console.error(JSON.stringify({ event: "client_jwks_unavailable", client_id: client.client_id, problem: "address_not_allowed" }));
        throw new OAuthError("assertion_jwks_uri_not_allowed");
      }
      const id = `${client.client_id}\n${uri}`;
      return cache.get(id, refresh, async (now) => {
        if (!refresh) {
          const cached = await shared.read(sharedKey(client, uri), now);
          if (cached) return cached;
        }
        const keys = await fetchJwks(uri, fetchImpl, limits);
        await shared.write(sharedKey(client, uri), keys, now);
        return { keys, fetchedAt: now };
      }, (failure) => console.error(JSON.stringify({ event: "client_jwks_unavailable", client_id: client.client_id, jwks_origin: originOf(uri), problem: failure.problem })));
    },
  };
}

async function fetchJwks(uri: string, fetchImpl: FetchLike, limits: FetchLimits): Promise<readonly JWK[]> {
  let text: string;
  try {
    text = await fetchTextBounded(uri, fetchImpl, { ...limits, accept: "application/jwk-set+json, application/json" });
  } catch (cause) {
    if (!(cause instanceof BoundedFetchError)) throw cause;
    throw new KeySetFailure(cause.problem, cause.problem === "invalid_utf8" ? "assertion_jwks_invalid" : "assertion_jwks_unavailable");
  }
  const parsed = parseRemoteJwks(text);
  if (!parsed.ok) throw new KeySetFailure(parsed.problem, "assertion_jwks_invalid");
  return parsed.keys;
}

function sharedKey(client: ClientRecord, uri: string): string {
  return `${CACHE_KEY_ORIGIN}/v1/${encodeURIComponent(client.client_id)}?uri=${encodeURIComponent(uri)}`;
}

async function defaultSharedCache(): Promise<Cache | null> {
  return typeof caches === "undefined" ? null : caches.default;
}

function originOf(uri: string): string {
  return URL.canParse(uri) ? new URL(uri).origin : "invalid";
}
