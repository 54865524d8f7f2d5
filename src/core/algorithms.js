// @ts-check
/**
 * Which JWS algorithms each client authentication method accepts (SPEC §3 rule 3,
 * RFC 7523 §3, RFC 8725 §3.1: no `none`, no algorithm confusion between families), and the JWK
 * facts that go with them. Plain JavaScript with JSDoc types, type-checked by tsc, so the Worker,
 * the CLI and `src/client/` share one copy.
 */
import { base64url } from "jose";

/** Asymmetric algorithms for `private_key_jwt`. `Ed25519` is the fully-specified name (RFC 9864). */
export const PRIVATE_KEY_JWT_ALGS = /** @type {const} */ ([
  "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512",
  "EdDSA", "Ed25519",
]);

/** HMAC algorithms for `client_secret_jwt`. */
export const CLIENT_SECRET_JWT_ALGS = /** @type {const} */ (["HS256", "HS384", "HS512"]);

/** @typedef {(typeof PRIVATE_KEY_JWT_ALGS)[number]} AsymmetricAlg */
/** @typedef {(typeof CLIENT_SECRET_JWT_ALGS)[number]} HmacAlg */
/** @typedef {AsymmetricAlg | HmacAlg} AssertionAlg */

/** Algorithms the server signs access tokens with (a key in SIGNING_KEYS must use one). */
export const ACCESS_TOKEN_SIGNING_ALGS = PRIVATE_KEY_JWT_ALGS;

/** RFC 7591 §2 `token_endpoint_auth_method` values this server supports. */
export const TOKEN_ENDPOINT_AUTH_METHODS = /** @type {const} */ ([
  "private_key_jwt",
  "client_secret_jwt",
  "client_secret_basic",
  "client_secret_post",
]);
/** @typedef {(typeof TOKEN_ENDPOINT_AUTH_METHODS)[number]} TokenEndpointAuthMethod */

/**
 * Bytes of HMAC output per algorithm: an HS secret must be at least this long (RFC 7518 §3.2).
 * @type {Readonly<Record<HmacAlg, number>>}
 */
export const HMAC_MIN_SECRET_BYTES = { HS256: 32, HS384: 48, HS512: 64 };

/**
 * @param {unknown} alg
 * @returns {alg is AsymmetricAlg}
 */
export function isAsymmetricAlg(alg) {
  return /** @type {readonly unknown[]} */ (PRIVATE_KEY_JWT_ALGS).includes(alg);
}

/**
 * @param {unknown} alg
 * @returns {alg is HmacAlg}
 */
export function isHmacAlg(alg) {
  return /** @type {readonly unknown[]} */ (CLIENT_SECRET_JWT_ALGS).includes(alg);
}

/**
 * Whether two algorithm names are one algorithm: equal, or `EdDSA` and `Ed25519`, which name the
 * same signature for an Ed25519 key (RFC 9864 §2; SPEC §3 rule 3, §6).
 * @param {string} a
 * @param {string} b
 * @returns {boolean}
 */
export function sameAlgorithm(a, b) {
  if (a === b) return true;
  /** @param {string} alg */
  const ed25519 = (alg) => alg === "EdDSA" || alg === "Ed25519";
  return ed25519(a) && ed25519(b);
}

/**
 * The JWK `kty` (and `crv` where it matters) that can verify `alg`.
 * @param {AsymmetricAlg} alg
 * @returns {{ kty: string; crv?: string }}
 */
export function keyTypeForAlg(alg) {
  if (alg.startsWith("RS") || alg.startsWith("PS")) return { kty: "RSA" };
  if (alg === "ES256") return { kty: "EC", crv: "P-256" };
  if (alg === "ES384") return { kty: "EC", crv: "P-384" };
  if (alg === "ES512") return { kty: "EC", crv: "P-521" };
  return { kty: "OKP", crv: "Ed25519" };
}

/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
export const PRIVATE_JWK_MEMBERS = /** @type {const} */ (["d", "p", "q", "dp", "dq", "qi", "oth", "k"]);

/** Minimum RSA modulus (SPEC §3 rule 4, RFC 7518 §3.3). */
export const RSA_MIN_MODULUS_BITS = 2048;

/**
 * Modulus length in bits of an RSA JWK's base64url `n`, ignoring leading zero octets.
 * @param {string} n
 * @returns {number}
 */
export function rsaModulusBits(n) {
  /** @type {Uint8Array} */
  let bytes;
  try {
    bytes = base64url.decode(n);
  } catch {
    return 0;
  }
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(/** @type {number} */ (bytes[i])));
}
