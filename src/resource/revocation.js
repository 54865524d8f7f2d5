// @ts-check
/**
 * Optional online revocation check: ask the issuer's introspection endpoint (RFC 7662) whether a
 * token is still active, authenticating as a client of the issuer, with a short cache. What
 * happens when the endpoint cannot be reached is the caller's explicit choice.
 */
import { fetchJson } from "./discovery.js";
import { JWT_BEARER_ASSERTION_TYPE } from "../core/protocol.js";
import { Rejection } from "./errors.js";

/** Default time an introspection answer is reused. */
export const DEFAULT_REVOCATION_CACHE_SECONDS = 30;
const MAX_CACHED_ANSWERS = 10_000;

/**
 * @typedef {object} RevocationOptions
 * @property {string} clientId  the resource server's own client at the issuer (register it with
 *   `introspection_allowed: true`, or every other client's token reads as inactive).
 * @property {string} [clientSecret]  for `client_secret_basic`.
 * @property {() => Promise<string>} [clientAssertion]  for `private_key_jwt` / `client_secret_jwt`:
 *   a fresh assertion per call (e.g. createClientAssertion from edge-token-service/client, with the
 *   introspection endpoint URL or the issuer as audience).
 * @property {"closed" | "open"} onFailure  required: `closed` rejects the request (503) when the
 *   endpoint cannot be reached; `open` accepts a token that passed every local check.
 * @property {number} [cacheSeconds]  how long an answer is reused (default 30; 0 asks every time).
 *   A revoked token can keep working this long.
 */

/** Per options object: jti → { active, until }. */
/** @type {WeakMap<RevocationOptions, Map<string, { active: boolean, until: number }>>} */
const answerCaches = new WeakMap();

/**
 * @param {RevocationOptions} options
 * @throws {TypeError} when the options cannot work.
 */
export function checkRevocationOptions(options) {
  if (typeof options.clientId !== "string" || options.clientId === "") throw new TypeError("revocation.clientId is required");
  if ((options.clientSecret === undefined) === (options.clientAssertion === undefined)) {
    throw new TypeError("revocation needs exactly one of clientSecret and clientAssertion");
  }
  if (options.onFailure !== "closed" && options.onFailure !== "open") throw new TypeError('revocation.onFailure must be "closed" or "open"');
}

/**
 * @param {object} check
 * @param {string} check.token
 * @param {{ jti: string, exp: number }} check.claims
 * @param {string | undefined} check.endpoint  the issuer's introspection_endpoint.
 * @param {RevocationOptions} check.options
 * @param {import("./discovery.js").FetchLike} check.fetch
 * @param {number} check.now  seconds.
 * @throws {Rejection} invalid_token when the issuer says the token is not active;
 *   temporarily_unavailable when it cannot say and onFailure is "closed".
 */
export async function checkNotRevoked({ token, claims, endpoint, options, fetch, now }) {
  let cache = answerCaches.get(options);
  if (cache === undefined) answerCaches.set(options, (cache = new Map()));
  const cached = cache.get(claims.jti);
  let active = cached !== undefined && cached.until > now ? cached.active : undefined;
  if (active === undefined) {
    try {
      active = await introspect(token, endpoint, options, fetch);
    } catch (err) {
      if (options.onFailure === "open") return;
      throw err instanceof Rejection ? err : new Rejection("temporarily_unavailable", "the issuer's introspection endpoint could not be reached");
    }
    if (cache.size >= MAX_CACHED_ANSWERS) cache.clear();
    // An inactive token never becomes active again: remember that until it expires anyway.
    const until = active ? Math.min(now + (options.cacheSeconds ?? DEFAULT_REVOCATION_CACHE_SECONDS), claims.exp) : claims.exp;
    cache.set(claims.jti, { active, until });
  }
  if (!active) throw new Rejection("invalid_token", "the access token has been revoked or is no longer active");
}

/**
 * @param {string} token
 * @param {string | undefined} endpoint
 * @param {RevocationOptions} options
 * @param {import("./discovery.js").FetchLike} fetch
 * @returns {Promise<boolean>}
 */
async function introspect(token, endpoint, options, fetch) {
  if (endpoint === undefined) throw new Rejection("temporarily_unavailable", "the issuer publishes no introspection_endpoint");
  const form = new URLSearchParams({ token, token_type_hint: "access_token" });
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
  if (options.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    const encode = (/** @type {string} */ value) => encodeURIComponent(value).replace(/%20/g, "+");
    headers.Authorization = `Basic ${btoa(`${encode(options.clientId)}:${encode(options.clientSecret)}`)}`;
  } else if (options.clientAssertion !== undefined) {
    form.set("client_id", options.clientId);
    form.set("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
    form.set("client_assertion", await options.clientAssertion());
  }
  const answer = await fetchJson(fetch, endpoint, { method: "POST", headers, body: form.toString(), redirect: "manual" }, "the issuer's introspection endpoint");
  if (typeof answer.active !== "boolean") throw new Rejection("temporarily_unavailable", "the issuer's introspection answer has no active member");
  return answer.active;
}
