// @ts-check
/**
 * The protocol's names and the service's defaults, once: grant types, assertion and token types,
 * JWT `typ` values, and the numbers a setting falls back to. JSDoc-typed JavaScript checked by
 * tsc, so the Worker, the CLI, `./client` and `./resource` share one copy; README and
 * wrangler.toml cite these defaults.
 */

// ---- Grant types (RFC 6749 §4.4, RFC 7523 §2.1, RFC 8693 §2.1).
export const CLIENT_CREDENTIALS_GRANT = "client_credentials";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

// ---- Client assertion types (RFC 7523 §2.2; draft-ietf-oauth-spiffe-client-auth for JWT-SVIDs).
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
export const JWT_SPIFFE_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

// ---- Token type identifiers (RFC 8693 §3), for token exchange.
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";

/** RFC 6750 / RFC 9449 §5 `token_type` of a token response, and the Authorization schemes. */
export const TOKEN_TYPES = /** @type {const} */ (["Bearer", "DPoP"]);
/** @typedef {(typeof TOKEN_TYPES)[number]} TokenType */

// ---- JWT `typ` header values.
/** RFC 9068 §2.1: access tokens. */
export const ACCESS_TOKEN_TYP = "at+jwt";
/** The explicit `typ` of RFC 7523bis / FAPI 2.0 client assertions. */
export const CLIENT_AUTH_JWT_TYP = "client-authentication+jwt";
/** RFC 9449 §4.2: DPoP proofs. */
export const DPOP_JWT_TYP = "dpop+jwt";

// ---- Defaults and limits (seconds unless named otherwise).
/** ACCESS_TOKEN_TTL when unset: an access token's lifetime. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** ASSERTION_MAX_LIFETIME when unset (SPEC §3 rule 8). */
export const DEFAULT_ASSERTION_MAX_LIFETIME_SECONDS = 300;
/** CLOCK_SKEW when unset, and the resource verifier's `clockSkewSeconds`. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 15;
/** A trusted issuer's `max_token_lifetime` when unset (SPEC §9). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;
/** Longest accepted `jti` of an assertion or a DPoP proof (SPEC §3 rule 10). */
export const MAX_JTI_LENGTH = 256;
/** RFC 7523 §3 / SPEC §3 rule 2, and RFC 9449 proofs: larger compact JWTs are refused before parsing. */
export const MAX_JWT_BYTES = 8 * 1024;

/**
 * This server's issuer identifier as an `aud` (SPEC §3 rule 7, §9, §13, both audience modes): the
 * identifier, also with one trailing `/`. ISSUER is an origin, and RFC 3986 §6.2.3 makes an empty
 * path and "/" one resource: the same identifier, as Python MCP clients (pydantic URLs) send it.
 * No other folding (README "Choices").
 * @param {string} issuer
 * @returns {string[]}
 */
export function issuerAudiences(issuer) {
  return [issuer, `${issuer}/`];
}
