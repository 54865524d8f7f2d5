// @ts-check
/**
 * The one table of algorithms and keys (like jose's lib/jws_algorithms): which JWS algorithms each
 * client authentication method accepts (SPEC §3 rule 3, RFC 7523 §3, RFC 8725 §3.1: no `none`, no
 * algorithm confusion between families), which key type and curve verifies each, the RSA minimum,
 * and what makes a JWK a usable public signing key. Registration, client authentication,
 * federation, DPoP, the server's own signing keys and the `./resource` verifier all ask here.
 * Plain JavaScript with JSDoc types, type-checked by tsc, so the Worker, the CLI, `src/client/` and
 * `src/resource/` share one copy.
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

/** @typedef {{ readonly kty: "RSA" } | { readonly kty: "EC" | "OKP"; readonly crv: string }} KeyType */

/**
 * The JWK `kty` (and `crv`) that verifies each asymmetric algorithm (RFC 7518 §3.3-3.5, RFC 8037
 * §3.1, RFC 9864 §2).
 * @type {Readonly<Record<AsymmetricAlg, KeyType>>}
 */
export const KEY_TYPE_OF_ALG = Object.freeze({
  RS256: { kty: "RSA" }, RS384: { kty: "RSA" }, RS512: { kty: "RSA" },
  PS256: { kty: "RSA" }, PS384: { kty: "RSA" }, PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" }, ES384: { kty: "EC", crv: "P-384" }, ES512: { kty: "EC", crv: "P-521" },
  EdDSA: { kty: "OKP", crv: "Ed25519" }, Ed25519: { kty: "OKP", crv: "Ed25519" },
});

/** Public key types and curves a registered, fetched or embedded JWK may have. */
export const PUBLIC_JWK_TYPES = /** @type {const} */ (["RSA", "EC", "OKP"]);
export const JWK_CURVES = /** @type {const} */ (["P-256", "P-384", "P-521", "Ed25519"]);

/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
export const PRIVATE_JWK_MEMBERS = /** @type {const} */ (["d", "p", "q", "dp", "dq", "qi", "oth", "k"]);

/**
 * The public half of a JWK: every private member removed, and `key_ops`/`ext` (a private key's).
 * @param {import("jose").JWK} jwk
 * @returns {import("jose").JWK}
 */
export function publicJwkOf(jwk) {
  /** @type {Record<string, unknown>} */
  const copy = { ...jwk };
  for (const member of [...PRIVATE_JWK_MEMBERS, "key_ops", "ext"]) delete copy[member];
  return copy;
}

/** Minimum RSA modulus (SPEC §3 rule 4, RFC 7518 §3.3). */
export const RSA_MIN_MODULUS_BITS = 2048;

/**
 * @typedef {{ kty?: unknown, crv?: unknown, alg?: unknown, use?: unknown, key_ops?: unknown, n?: unknown, e?: unknown, x?: unknown, y?: unknown }} JwkLike
 * @typedef {"private_key_material" | "kty_unsupported" | "rsa_incomplete" | "rsa_too_weak" | "ec_incomplete" | "okp_incomplete"} PublicJwkProblem
 */

/**
 * Why `jwk` is not a usable public signing key, or undefined when it is: no private member, a
 * supported `kty` with its members (`crv` among the supported curves), RSA at least 2048 bits.
 * @param {JwkLike} jwk
 * @returns {{ problem: PublicJwkProblem, member?: string } | undefined}  `member`: the offending member.
 */
export function publicJwkProblem(jwk) {
  const member = PRIVATE_JWK_MEMBERS.find((name) => name in jwk);
  if (member !== undefined) return { problem: "private_key_material", member };
  const has = (/** @type {unknown} */ value) => typeof value === "string" && value !== "";
  if (jwk.kty === "RSA") {
    if (!has(jwk.n) || !has(jwk.e)) return { problem: "rsa_incomplete" };
    if (rsaModulusBits(/** @type {string} */ (jwk.n)) < RSA_MIN_MODULUS_BITS) return { problem: "rsa_too_weak", member: "n" };
    return undefined;
  }
  if (jwk.kty === "EC") {
    return ["P-256", "P-384", "P-521"].includes(/** @type {string} */ (jwk.crv)) && has(jwk.x) && has(jwk.y) ? undefined : { problem: "ec_incomplete" };
  }
  if (jwk.kty === "OKP") return jwk.crv === "Ed25519" && has(jwk.x) ? undefined : { problem: "okp_incomplete" };
  return { problem: "kty_unsupported" };
}

/**
 * Whether `jwk`'s key type and curve verify `alg` (KEY_TYPE_OF_ALG).
 * @param {JwkLike} jwk
 * @param {AsymmetricAlg} alg
 */
export function keyTypeFits(jwk, alg) {
  const type = KEY_TYPE_OF_ALG[alg];
  return jwk.kty === type.kty && (type.kty === "RSA" || jwk.crv === type.crv);
}

/**
 * Whether `jwk` may verify a signature made with `alg`: its type and curve fit, and its own
 * `alg`, `use` and `key_ops`, when present, allow it (RFC 7517 §4.2-4.4).
 * @param {JwkLike} jwk
 * @param {AsymmetricAlg} alg
 */
export function keyVerifies(jwk, alg) {
  if (!keyTypeFits(jwk, alg)) return false;
  if (jwk.alg !== undefined && (typeof jwk.alg !== "string" || !sameAlgorithm(jwk.alg, alg))) return false;
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  return jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"));
}

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
