// @ts-check
/**
 * verifyAccessToken(): everything a resource server must check before it trusts an access token of
 * this service (or any RFC 9068 issuer), in a fixed order against one `now`:
 * the Authorization header → the issuer's metadata and keys → RFC 9068 §4 (typ, alg allow-list,
 * signature, iss, aud, exp/nbf/iat with skew, required claims) → the sender constraint (RFC 9449
 * §7.1 proof, `ath`, `cnf.jkt`) → revocation (optional) → scopes → the proof's jti, consumed last.
 */
import { errors, jwtVerify } from "jose";
import { ACCESS_TOKEN_TYP, DEFAULT_CLOCK_SKEW_SECONDS } from "../core/protocol.js";
import { issuerKeys, issuerMetadata, parseIssuer } from "./discovery.js";
import { actorDepth } from "../core/actor-chain.js";
import { isAsymmetricAlg, PRIVATE_KEY_JWT_ALGS } from "../core/algorithms.js";
import { checkDpopProof, consumeDpopProof, memoryReplayStore } from "./dpop.js";
import { AccessTokenError, Rejection } from "./errors.js";
import { checkNotRevoked, checkRevocationOptions } from "./revocation.js";

const MAX_TOKEN_BYTES = 16 * 1024;

/**
 * The request, as a Fetch `Request` or anything with its method, absolute URL and headers (a
 * `Headers`, or Node's `req.headers` object).
 * @typedef {{ method: string, url: string, headers: Headers | { get(name: string): string | null } | Record<string, string | string[] | undefined> }} RequestLike
 */

/**
 * @typedef {object} VerifyOptions
 * @property {string} issuer  the issuer identifier, exactly as its metadata says (e.g. `https://auth.example.com`).
 * @property {string | readonly string[]} audience  this resource's identifier(s) (RFC 8707): the token's `aud` must contain one.
 * @property {readonly string[]} [scopes]  every one required, else `insufficient_scope` (403).
 * @property {readonly string[]} [algorithms]  accepted token algorithms; default the issuer's
 *   `access_token_signing_alg_values_supported` (asymmetric ones only).
 * @property {number} [clockSkewSeconds]  default 15.
 * @property {{ required?: boolean, replayStore?: import("./dpop.js").ReplayStore,
 *   nonces?: import("./dpop.js").DpopNonceSource, iatWindowSeconds?: number }} [dpop]
 *   `required`: refuse Bearer tokens. `replayStore`: default one in-memory store per process.
 * @property {import("./revocation.js").RevocationOptions} [revocation]  ask the issuer whether the token is still active.
 * @property {string} [realm]  RFC 6750 §3 `realm`.
 * @property {string} [resourceMetadataUrl]  RFC 9728 §5.1: named in every challenge.
 * @property {(request: RequestLike) => string} [requestUrl]  behind a proxy that changed the URL the
 *   server sees: the URL the client called, derived from each request (DPoP `htu`). A function, never
 *   a fixed URL: options are shared by every request, and one URL would let a proof pass at any path.
 * @property {import("./discovery.js").FetchLike} [fetch]  default the global fetch.
 * @property {() => number} [now]  seconds since the epoch; default the system clock.
 */

/**
 * The verified claims (RFC 9068 §2.2).
 * `act` (RFC 8693 §4.1) is present on a token obtained by token exchange: `sub` is the party the
 * token is about (the original caller), `client_id` / `act.sub` the service acting for it, and
 * `act.act` the actor before that, nested.
 * @typedef {import("jose").JWTPayload & { iss: string, sub: string, aud: string | string[], exp: number, iat: number,
 *   jti: string, client_id: string, scope?: string, cnf?: { jkt: string }, act?: Actor }} AccessTokenClaims
 */

/**
 * RFC 8693 §4.1 actor claim.
 * @typedef {{ sub: string, act?: Actor }} Actor
 */

/** @type {import("./dpop.js").ReplayStore | undefined} */
let defaultReplayStore;

/**
 * Verify the access token of `input` (a request, or the token alone: Bearer only).
 * @param {RequestLike | string} input
 * @param {VerifyOptions} options
 * @returns {Promise<AccessTokenClaims>}
 * @throws {AccessTokenError} with the status and `WWW-Authenticate` challenge to answer.
 * @throws {TypeError} when `options` cannot work (a misconfiguration, not a bad token).
 */
export async function verifyAccessToken(input, options) {
  parseIssuer(options.issuer);
  if (options.revocation !== undefined) checkRevocationOptions(options.revocation);
  const audiences = typeof options.audience === "string" ? [options.audience] : [...options.audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a === "")) throw new TypeError("audience is required");
  if (options.requestUrl !== undefined && typeof options.requestUrl !== "function") {
    throw new TypeError("requestUrl must be a function of the request (each DPoP proof is bound to its own request's URL), not a fixed URL");
  }
  /** @type {"Bearer" | "DPoP" | null} */
  let scheme = null;
  try {
    const presented = readCredentials(input);
    scheme = presented.scheme;
    return await verifyPresented(presented, input, audiences, options);
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    throw new AccessTokenError(err.code, err.description, {
      scheme,
      bearerAllowed: options.dpop?.required !== true,
      ...(options.realm !== undefined ? { realm: options.realm } : {}),
      ...(err.code === "insufficient_scope" && options.scopes !== undefined ? { scopes: options.scopes } : {}),
      ...(options.resourceMetadataUrl !== undefined ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
      dpopAlgs: PRIVATE_KEY_JWT_ALGS,
      ...(err.dpopNonce !== undefined ? { dpopNonce: err.dpopNonce } : {}),
    });
  }
}

/**
 * @param {{ scheme: "Bearer" | "DPoP", token: string }} presented
 * @param {RequestLike | string} input
 * @param {string[]} audiences
 * @param {VerifyOptions} options
 * @returns {Promise<AccessTokenClaims>}
 */
async function verifyPresented({ scheme, token }, input, audiences, options) {
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (token.length > MAX_TOKEN_BYTES) throw new Rejection("invalid_token", "the access token is larger than 16 KiB");
  const metadata = await issuerMetadata(options.issuer, options.fetch, now * 1000);
  const algorithms = allowedAlgorithms(options.algorithms ?? metadata.access_token_signing_alg_values_supported);

  /** @type {AccessTokenClaims} */
  let claims;
  try {
    const verified = await jwtVerify(token, issuerKeys(options.issuer, options.fetch, metadata), {
      typ: ACCESS_TOKEN_TYP,
      algorithms,
      issuer: options.issuer,
      audience: audiences,
      clockTolerance: skew,
      currentDate: new Date(now * 1000),
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"],
    });
    claims = /** @type {AccessTokenClaims} */ (verified.payload);
  } catch (err) {
    throw tokenFailure(err);
  }
  // RFC 9068 §4 asks for iat too; jose only checks it is a number.
  if (claims.iat > now + skew) throw new Rejection("invalid_token", "the access token iat is in the future");
  if (typeof claims.jti !== "string" || typeof claims.client_id !== "string" || typeof claims.sub !== "string") {
    throw new Rejection("invalid_token", "the access token lacks a string sub, client_id or jti");
  }
  if (claims.act !== undefined && actorDepth(claims.act) === undefined) throw new Rejection("invalid_token", "the access token act claim is not an actor chain (RFC 8693 section 4.1)");

  // RFC 9449 §7.1: a bound token only with its proof, an unbound one only as Bearer.
  const jkt = boundKey(claims);
  if (options.dpop?.required === true && jkt === undefined) throw new Rejection("invalid_token", "this resource accepts only DPoP-bound access tokens");
  /** @type {{ replayKey: string, acceptableUntil: number } | undefined} */
  let proof;
  if (jkt !== undefined) {
    if (scheme !== "DPoP") throw new Rejection("invalid_token", "the access token is DPoP-bound: present it with the DPoP scheme and a proof");
    if (typeof input === "string") throw new TypeError("a DPoP-bound token can only be verified with its request (method, URL, DPoP header)");
    const request = { method: input.method.toUpperCase(), url: options.requestUrl?.(input) ?? input.url };
    const { iatWindowSeconds, nonces } = options.dpop ?? {};
    proof = await checkDpopProof(header(input, "dpop"), request, { now, clockSkewSeconds: skew, iatWindowSeconds, nonces, jkt, accessToken: token });
  } else if (scheme === "DPoP") {
    throw new Rejection("invalid_token", "the access token is not DPoP-bound: present it with the Bearer scheme");
  }

  if (options.revocation !== undefined) {
    await checkNotRevoked({ token, claims, endpoint: metadata.introspection_endpoint, options: options.revocation, fetch: options.fetch ?? fetch, now });
  }
  const granted = new Set(typeof claims.scope === "string" ? claims.scope.split(" ") : []);
  const missing = (options.scopes ?? []).filter((scope) => !granted.has(scope));
  if (missing.length > 0) throw new Rejection("insufficient_scope", `the access token lacks the scope ${missing.join(" ")}`);
  // Last: a proof is spent only by a request that passed every other check.
  if (proof !== undefined) await consumeDpopProof(proof, options.dpop?.replayStore ?? (defaultReplayStore ??= memoryReplayStore()));
  return claims;
}

/**
 * RFC 6750 §2.1 / RFC 9449 §7.1: `Authorization: Bearer <token>` or `DPoP <token>`, exactly once.
 * @param {RequestLike | string} input
 * @returns {{ scheme: "Bearer" | "DPoP", token: string }}
 */
function readCredentials(input) {
  if (typeof input === "string") {
    if (input === "") throw new Rejection(null, "no access token");
    return { scheme: "Bearer", token: input };
  }
  const authorization = header(input, "authorization");
  if (authorization === null || authorization === "") throw new Rejection(null, "no access token");
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization);
  if (match === null) throw new Rejection("invalid_request", "the Authorization header must be 'Bearer <token>' or 'DPoP <token>', once");
  const scheme = /** @type {string} */ (match[1]).toLowerCase() === "dpop" ? "DPoP" : "Bearer";
  return { scheme, token: /** @type {string} */ (match[2]) };
}

/**
 * A header's value; repeated headers joined by ", " as `Headers.get` does.
 * @param {RequestLike} request
 * @param {string} name  lower case.
 */
function header(request, name) {
  const { headers } = request;
  if (typeof headers.get === "function") return /** @type {{ get(name: string): string | null }} */ (headers).get(name);
  const value = /** @type {Record<string, string | string[] | undefined>} */ (headers)[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

/**
 * @param {unknown} fromMetadata
 * @returns {string[]}
 */
function allowedAlgorithms(fromMetadata) {
  // RFC 9068 §4: never `none`, never a MAC with a key the resource would have to share.
  const listed = Array.isArray(fromMetadata) ? fromMetadata.filter(isAsymmetricAlg) : [];
  // RFC 9068 §4: RS256 is the default an issuer that lists nothing is assumed to use.
  return listed.length > 0 ? listed : ["RS256"];
}

/**
 * @param {AccessTokenClaims} claims
 * @returns {string | undefined}
 */
function boundKey(claims) {
  if (claims.cnf === undefined) return undefined;
  const jkt = typeof claims.cnf === "object" && claims.cnf !== null ? claims.cnf.jkt : undefined;
  if (typeof jkt !== "string" || jkt === "") throw new Rejection("invalid_token", "the access token cnf has no jkt");
  return jkt;
}

/**
 * jose's failure → the check that failed, one text each.
 * @param {unknown} err
 * @returns {Rejection}
 */
function tokenFailure(err) {
  if (err instanceof Rejection) return err;
  const reject = (/** @type {string} */ description) => new Rejection("invalid_token", description);
  if (err instanceof errors.JWTExpired) return reject("the access token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return reject(`the access token has no ${err.claim} claim`);
    switch (err.claim) {
      case "typ": return reject("the token is not an access token (typ must be at+jwt, RFC 9068 section 4)");
      case "iss": return reject("the access token was issued by another issuer");
      case "aud": return reject("the access token is not for this resource (aud)");
      case "nbf": return reject("the access token is not valid yet (nbf)");
      default: return reject(`the access token ${err.claim} claim is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return reject("the access token alg is not one the issuer signs with");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return reject("no key of the issuer matches the access token kid");
  if (err instanceof errors.JWSSignatureVerificationFailed) return reject("the access token signature does not verify");
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC")) {
    return new Rejection("temporarily_unavailable", "the issuer's keys could not be fetched");
  }
  if (err instanceof errors.JOSEError) return reject("the access token is not a valid signed JWT");
  // A fetch failure inside jose's key set surfaces as a plain error.
  return new Rejection("temporarily_unavailable", "the issuer's keys could not be fetched");
}
