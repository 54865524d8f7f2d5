// @ts-check
/**
 * Client-side helper: build an RFC 7523 client assertion (`private_key_jwt` or `client_secret_jwt`)
 * for this service's token endpoint. Plain ESM JavaScript with JSDoc types, built on jose only, so
 * the same file runs in Workers, Node.js ≥ 20 and browsers without a build step (the CLI uses it).
 *
 *   import { createClientAssertion } from "edge-token-service/client";
 *   const assertion = await createClientAssertion({
 *     clientId: "my-client",
 *     key: privateJwk,                       // {kty, d, ..., kid, alg} as written by `ets clients create`
 *     audience: "https://auth.example.com/oauth2/token",
 *   });
 *   // POST grant_type=client_credentials&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=…
 */
import { importJWK, importPKCS8, SignJWT } from "jose";
import { isHmacAlg, keyTypeFits, PRIVATE_KEY_JWT_ALGS, sameAlgorithm } from "../core/algorithms.js";
import { CLIENT_AUTH_JWT_TYP } from "../core/protocol.js";

// RFC 7523 §2.2 `client_assertion_type`, and the explicit `typ` of RFC 7523bis client assertions
// (accepted in compat mode, required in strict mode): part of this module's API.
export { CLIENT_AUTH_JWT_TYP, JWT_BEARER_ASSERTION_TYPE } from "../core/protocol.js";

/** Default assertion lifetime: short, well under the server's ASSERTION_MAX_LIFETIME (300 s). */
export const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60;

/**
 * @typedef {object} ClientAssertionOptions
 * @property {string} clientId  becomes `iss` and `sub` (RFC 7523 §3 items 1-2).
 * @property {import("jose").JWK | import("jose").CryptoKey | Uint8Array | string} key
 *   A private JWK (its `kid` and `alg` are used when not given), a private `CryptoKey`, a PKCS#8 PEM
 *   string (`-----BEGIN PRIVATE KEY-----`, needs `alg`), or for `client_secret_jwt` the client
 *   secret as a string or bytes (HMAC; `alg` defaults to HS256).
 * @property {string} audience  `aud` (RFC 7523 §3 item 3): the token endpoint URL, or the issuer in strict mode.
 * @property {string} [alg]  JWS algorithm; default: the JWK's `alg`, else ES256/ES384/ES512 by curve, EdDSA for
 *   Ed25519, RS256 for RSA, HS256 for a secret.
 * @property {string} [kid]  `kid` header; default: the JWK's `kid`.
 * @property {number} [lifetimeSeconds]  `exp - iat`, whole seconds ≥ 1; default 60.
 * @property {string} [typ]  `typ` header; default `client-authentication+jwt`. Pass `"JWT"` for older servers.
 * @property {string} [jti]  default: a random UUID (each assertion is single use, RFC 7523 §3 item 7).
 * @property {number} [now]  current time in seconds since the epoch; default the system clock.
 */

/**
 * Create a signed client assertion: a compact JWS with `iss` = `sub` = clientId, `aud`, `iat`,
 * `exp` = iat + lifetime, and a random `jti`.
 * @param {ClientAssertionOptions} options
 * @returns {Promise<string>} the compact JWS, ready for the `client_assertion` form parameter.
 * @throws {TypeError} when the key or an option cannot be used (missing or mismatched `alg`, a
 *   public key, a non-integer lifetime).
 */
export async function createClientAssertion(options) {
  const { clientId, audience } = options;
  if (typeof clientId !== "string" || clientId === "") throw new TypeError("clientId is required");
  if (typeof audience !== "string" || audience === "") throw new TypeError("audience is required");
  const lifetime = options.lifetimeSeconds ?? DEFAULT_ASSERTION_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 1) throw new TypeError("lifetimeSeconds must be a whole number ≥ 1");
  const now = options.now ?? Math.floor(Date.now() / 1000);

  const { signingKey, alg, kid } = await resolveSigningKey(options.key, options.alg, options.kid);
  /** @type {import("jose").JWTHeaderParameters} */
  const header = { alg, typ: options.typ ?? CLIENT_AUTH_JWT_TYP };
  if (kid !== undefined) header.kid = kid;
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .setJti(options.jti ?? crypto.randomUUID())
    .sign(signingKey);
}

/**
 * Read a key file's text: a private JWK (JSON) or a PKCS#8 PEM.
 * @param {string} text
 * @returns {import("jose").JWK | string}
 * @throws {TypeError} when the text is neither.
 */
export function parsePrivateKeyText(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN PRIVATE KEY-----")) return trimmed;
  let parsed;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new TypeError("the key is neither a JWK (JSON) nor a PKCS#8 PEM");
  }
  if (typeof parsed !== "object" || parsed === null || typeof parsed.kty !== "string") throw new TypeError("the key is not a JWK (no kty)");
  return /** @type {import("jose").JWK} */ (parsed);
}

/**
 * @param {ClientAssertionOptions["key"]} key
 * @param {string | undefined} alg
 * @param {string | undefined} kid
 * @returns {Promise<{ signingKey: import("jose").CryptoKey | Uint8Array, alg: string, kid: string | undefined }>}
 */
async function resolveSigningKey(key, alg, kid) {
  if (typeof key === "string" && key.trim().startsWith("-----BEGIN")) {
    if (alg === undefined) throw new TypeError("alg is required with a PEM key");
    return { signingKey: await importPKCS8(key, alg), alg, kid };
  }
  if (typeof key === "string" || key instanceof Uint8Array) {
    // client_secret_jwt: the secret is the HMAC key (RFC 7523 §2.2, RFC 7518 §3.2).
    const secret = typeof key === "string" ? new TextEncoder().encode(key) : key;
    const hmacAlg = alg ?? "HS256";
    if (!isHmacAlg(hmacAlg)) throw new TypeError(`a client secret signs with HS256, HS384 or HS512, not ${hmacAlg}`);
    return { signingKey: secret, alg: hmacAlg, kid };
  }
  if (isJwk(key)) {
    if (key.kty === "oct") throw new TypeError("a symmetric JWK cannot sign private_key_jwt; pass the client secret as a string");
    if (typeof key.d !== "string") throw new TypeError("the JWK is a public key; the private key (with \"d\") is needed to sign");
    const jwkAlg = alg ?? key.alg ?? defaultAlgForJwk(key);
    if (key.alg !== undefined && alg !== undefined && !sameAlgorithm(key.alg, alg)) {
      throw new TypeError(`the JWK is for ${key.alg}, not ${alg}`);
    }
    const { key_ops: _ops, use: _use, ext: _ext, ...bare } = key;
    const imported = await importJWK({ ...bare, alg: jwkAlg }, jwkAlg);
    return { signingKey: imported, alg: jwkAlg, kid: kid ?? key.kid };
  }
  if (alg === undefined) throw new TypeError("alg is required with a CryptoKey");
  return { signingKey: key, alg, kid };
}

/**
 * @param {unknown} key
 * @returns {key is import("jose").JWK}
 */
function isJwk(key) {
  return typeof key === "object" && key !== null && typeof (/** @type {{kty?: unknown}} */ (key).kty) === "string";
}

/**
 * The first algorithm of the table (core/algorithms.js) that the key's type and curve verify:
 * RS256, ES256/384/512 by curve, EdDSA.
 * @param {import("jose").JWK} jwk
 * @returns {string}
 */
function defaultAlgForJwk(jwk) {
  const alg = PRIVATE_KEY_JWT_ALGS.find((candidate) => keyTypeFits(jwk, candidate));
  if (alg === undefined) throw new TypeError(`cannot choose an alg for this key (kty ${jwk.kty}${jwk.crv ? `, crv ${jwk.crv}` : ""}); pass alg`);
  return alg;
}
