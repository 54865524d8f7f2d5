// @ts-check
/**
 * The issuer's RFC 8414 metadata and signing keys, as a resource server needs them: fetched from
 * the issuer's well-known URL, `issuer` checked to equal the configured one exactly (RFC 8414
 * §3.3), cached, and the keys from its `jwks_uri` through jose's remote JWK Set (cached, refetched
 * on an unknown `kid` at most once per cooldown).
 */
import { createRemoteJWKSet, customFetch } from "jose";
import { isLoopbackForCredentials } from "../core/addresses.js";
import { Rejection } from "./errors.js";

/** How long fetched metadata is used before it is read again. */
export const METADATA_MAX_AGE_MS = 10 * 60 * 1000;
/** After a failed refresh, the last good metadata is used this long before the next attempt. */
export const METADATA_RETRY_MS = 30 * 1000;
/** Cap on each metadata or introspection answer; a real one is a few KiB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** Time limit of each fetch to the issuer. */
export const FETCH_TIMEOUT_MS = 5000;
/** jose remote JWK Set: an unknown `kid` triggers at most one refetch per this many ms. */
export const JWKS_COOLDOWN_MS = 30 * 1000;
/** jose remote JWK Set: keys are refetched after this long even when every `kid` is known. */
export const JWKS_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * @typedef {(input: string | URL, init?: RequestInit) => Promise<Response>} FetchLike
 * @typedef {{ issuer: string, jwks_uri: string, introspection_endpoint?: string, access_token_signing_alg_values_supported?: unknown }} IssuerMetadata
 * @typedef {{ metadata: IssuerMetadata | undefined, fetchedAt: number, pending: Promise<IssuerMetadata> | undefined,
 *   jwks: ReturnType<typeof createRemoteJWKSet> | undefined, jwksUri: string | undefined }} IssuerEntry
 */

/** Per fetch implementation (tests inject one), per issuer; created lazily (no global-scope I/O). */
/** @type {WeakMap<FetchLike, Map<string, IssuerEntry>>} */
const issuerCaches = new WeakMap();
/** @type {FetchLike} */
const defaultFetch = (input, init) => fetch(input, init);

/**
 * Check the configured issuer identifier: an absolute https URL without query or fragment
 * (RFC 8414 §2); plain http only on a loopback host that stays on this machine (127/8, [::1],
 * localhost: core/addresses.js isLoopbackForCredentials), for local development, since the keys
 * the tokens are checked with come from there.
 * @param {string} issuer
 * @returns {URL}
 * @throws {TypeError}
 */
export function parseIssuer(issuer) {
  if (typeof issuer !== "string" || !URL.canParse(issuer)) throw new TypeError("issuer must be an absolute URL");
  const url = new URL(issuer);
  if (url.search !== "" || url.hash !== "" || issuer.includes("?") || issuer.includes("#")) throw new TypeError("issuer must not have a query or fragment");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackForCredentials(url.hostname))) throw new TypeError("issuer must be an https URL (http only on a loopback host)");
  return url;
}

/**
 * The issuer's cache entry (metadata and key set), shared by every call with the same issuer and fetch.
 * @param {string} issuer
 * @param {FetchLike | undefined} fetchImpl
 */
export function issuerEntry(issuer, fetchImpl = defaultFetch) {
  let byIssuer = issuerCaches.get(fetchImpl);
  if (byIssuer === undefined) issuerCaches.set(fetchImpl, (byIssuer = new Map()));
  let entry = byIssuer.get(issuer);
  if (entry === undefined) {
    entry = { metadata: undefined, fetchedAt: 0, pending: undefined, jwks: undefined, jwksUri: undefined };
    byIssuer.set(issuer, entry);
  }
  return { entry, fetchImpl };
}

/**
 * The issuer's metadata, from cache when fresh.
 * @param {string} issuer
 * @param {FetchLike | undefined} fetchImpl
 * @param {number} nowMs
 * @returns {Promise<IssuerMetadata>}
 * @throws {Rejection} temporarily_unavailable when it cannot be fetched or is not this issuer's.
 */
export async function issuerMetadata(issuer, fetchImpl, nowMs) {
  const { entry, fetchImpl: doFetch } = issuerEntry(issuer, fetchImpl);
  if (entry.metadata !== undefined && nowMs - entry.fetchedAt < METADATA_MAX_AGE_MS) return entry.metadata;
  // One fetch at a time per issuer; callers during a fetch share it.
  entry.pending ??= fetchMetadata(issuer, doFetch).finally(() => (entry.pending = undefined));
  try {
    entry.metadata = await entry.pending;
    entry.fetchedAt = nowMs;
  } catch (err) {
    // A refresh that fails keeps the last good metadata (its keys are still checked one by one
    // through the JWKS) and is tried again after METADATA_RETRY_MS; with none, fail closed.
    if (entry.metadata === undefined) throw err;
    entry.fetchedAt = nowMs - METADATA_MAX_AGE_MS + METADATA_RETRY_MS;
  }
  return entry.metadata;
}

/**
 * The key function for jwtVerify: the issuer's JWK Set at its `jwks_uri`.
 * @param {string} issuer
 * @param {FetchLike | undefined} fetchImpl
 * @param {IssuerMetadata} metadata
 */
export function issuerKeys(issuer, fetchImpl, metadata) {
  const { entry, fetchImpl: doFetch } = issuerEntry(issuer, fetchImpl);
  if (entry.jwks === undefined || entry.jwksUri !== metadata.jwks_uri) {
    entry.jwksUri = metadata.jwks_uri;
    entry.jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      [customFetch]: (url, init) => doFetch(url, /** @type {RequestInit} */ (init)),
    });
  }
  return entry.jwks;
}

/**
 * RFC 8414 §3: GET the well-known URL (inserted between host and path), §3.3: `issuer` identical.
 * @param {string} issuer
 * @param {FetchLike} doFetch
 * @returns {Promise<IssuerMetadata>}
 */
async function fetchMetadata(issuer, doFetch) {
  const base = parseIssuer(issuer);
  const path = base.pathname === "/" ? "" : base.pathname;
  const url = `${base.origin}/.well-known/oauth-authorization-server${path}`;
  const document = await fetchJson(doFetch, url, { headers: { Accept: "application/json" }, redirect: "manual" }, "the issuer's metadata");
  if (document.issuer !== issuer) throw new Rejection("temporarily_unavailable", "the issuer's metadata names another issuer (RFC 8414 section 3.3)");
  const allowHttp = base.protocol === "http:";
  if (!isFetchableUrl(document.jwks_uri, allowHttp)) throw new Rejection("temporarily_unavailable", "the issuer's metadata has no usable jwks_uri");
  const introspection = document.introspection_endpoint;
  return {
    issuer,
    jwks_uri: /** @type {string} */ (document.jwks_uri),
    ...(isFetchableUrl(introspection, allowHttp) ? { introspection_endpoint: /** @type {string} */ (introspection) } : {}),
    access_token_signing_alg_values_supported: document.access_token_signing_alg_values_supported,
  };
}

/**
 * @param {unknown} value
 * @param {boolean} allowHttp
 */
function isFetchableUrl(value, allowHttp) {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const protocol = new URL(value).protocol;
  return protocol === "https:" || (allowHttp && protocol === "http:");
}

/**
 * A bounded JSON-object fetch: time limit, size cap, 200 only (no redirect followed).
 * @param {FetchLike} doFetch
 * @param {string} url
 * @param {RequestInit} init
 * @param {string} what  for the failure text.
 * @returns {Promise<Record<string, unknown>>}
 * @throws {Rejection} temporarily_unavailable
 */
export async function fetchJson(doFetch, url, init, what) {
  let text;
  try {
    const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch {
    throw new Rejection("temporarily_unavailable", `${what} could not be fetched`);
  }
  if (text.length > MAX_DOCUMENT_BYTES) throw new Rejection("temporarily_unavailable", `${what} is too large`);
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new Rejection("temporarily_unavailable", `${what} is not a JSON object`);
}
