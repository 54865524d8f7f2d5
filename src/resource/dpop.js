// @ts-check
/**
 * DPoP at a resource server (RFC 9449 §7.1): the proof of the request checked per §4.3 — one
 * header, `typ`, an asymmetric `alg`, the embedded public key and the signature, `jti`, `htm`,
 * `htu`, `iat` window, server nonce when configured — plus `ath` (the hash of this access token)
 * and the key's thumbprint equal to the token's `cnf.jkt`; the proof `jti` is single use within
 * this resource server's window, through a pluggable replay store.
 */
import { base64url, calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify } from "jose";
import { Rejection } from "./errors.js";

/** RFC 9449 §4.2. */
export const DPOP_TYP = "dpop+jwt";
/** Algorithms a proof may use: asymmetric only (RFC 9449 §4.3 item 5). */
export const DPOP_ALGS = Object.freeze(["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519"]);
/** RFC 9449 §11.1: accepted distance of a proof's `iat` from now, either way (plus clock skew). */
export const DEFAULT_DPOP_IAT_WINDOW_SECONDS = 60;
const MAX_PROOF_BYTES = 8 * 1024;
const MAX_JTI_LENGTH = 256;

/**
 * Records a proof `jti` and says whether this was its first use. Implement it over shared storage
 * (a Durable Object, Redis SET NX) when several instances serve one resource.
 * @typedef {object} ReplayStore
 * @property {(key: string, expiresAtSeconds: number) => boolean | Promise<boolean>} consumeOnce
 *   true on first use; keep the key at least until `expiresAtSeconds`.
 */

/**
 * Server nonces (RFC 9449 §9), e.g. from createDpopNonces().
 * @typedef {object} DpopNonceSource
 * @property {(nowSeconds: number) => Promise<string>} issue
 * @property {(nonce: string, nowSeconds: number) => Promise<boolean>} isFresh
 */

/**
 * @typedef {object} DpopCheck
 * @property {string | null} proof  the DPoP header (repeated headers joined by ", "), or null.
 * @property {string} method
 * @property {string} url  the request URL as the client addressed it.
 * @property {string} accessToken
 * @property {string} jkt  the token's `cnf.jkt`.
 * @property {number} now  seconds.
 * @property {number} clockSkewSeconds
 * @property {number} iatWindowSeconds
 * @property {DpopNonceSource | undefined} nonces
 */

/**
 * Every check but single use.
 * @param {DpopCheck} check
 * @returns {Promise<{ replayKey: string, acceptableUntil: number }>}  what consumeDpopProof records.
 * @throws {Rejection} invalid_dpop_proof naming the failed check, or use_dpop_nonce.
 */
export async function checkDpopProof(check) {
  const { proof } = check;
  if (proof === null || proof === "") throw invalid("the DPoP scheme needs a DPoP proof header");
  if (proof.includes(",")) throw invalid("more than one DPoP proof header");
  if (proof.length > MAX_PROOF_BYTES) throw invalid("DPoP proof is larger than 8 KiB");

  /** @type {import("jose").JWTPayload} */
  let claims;
  /** @type {import("jose").JWTHeaderParameters} */
  let header;
  try {
    // §4.3 items 2-7: typ, alg allow-list, embedded public jwk (EmbeddedJWK refuses a private one),
    // signature; jose also refuses any crit header (it implements no extension we would accept).
    ({ payload: claims, protectedHeader: header } = await jwtVerify(proof, EmbeddedJWK, {
      typ: DPOP_TYP,
      algorithms: [...DPOP_ALGS],
      clockTolerance: check.clockSkewSeconds,
      currentDate: new Date(check.now * 1000),
    }));
  } catch (err) {
    throw invalid(proofFailure(err));
  }

  // §7.1: the proof key is the key the token is bound to.
  const jkt = await calculateJwkThumbprint(/** @type {import("jose").JWK} */ (header.jwk), "sha256");
  if (jkt !== check.jkt) throw invalid("DPoP proof key is not the key the access token is bound to (cnf.jkt)");

  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== "string" || jti === "") throw invalid("DPoP proof jti is missing");
  if (jti.length > MAX_JTI_LENGTH) throw invalid("DPoP proof jti is longer than 256 characters");
  if (htm !== check.method) throw invalid("DPoP proof htm does not match the HTTP method of the request");
  const proofUrl = typeof htu === "string" ? normalizeHtu(htu) : undefined;
  if (proofUrl === undefined || proofUrl !== normalizeHtu(check.url)) throw invalid("DPoP proof htu does not match the URL of the request");
  if (typeof iat !== "number") throw invalid("DPoP proof iat is missing");
  const tolerance = check.iatWindowSeconds + check.clockSkewSeconds;
  if (iat < check.now - tolerance) throw invalid("DPoP proof iat is too old: create a fresh proof for each request");
  if (iat > check.now + tolerance) throw invalid("DPoP proof iat is too far in the future");
  // §4.3 item 11 / §7.1: ath is the base64url SHA-256 of the access token presented with it.
  if (typeof ath !== "string" || ath !== (await tokenHash(check.accessToken))) throw invalid("DPoP proof ath does not match the access token");
  if (check.nonces !== undefined) {
    const { nonce } = claims;
    if (typeof nonce !== "string" || !(await check.nonces.isFresh(nonce, check.now))) {
      throw new Rejection("use_dpop_nonce", "this resource requires a fresh DPoP nonce: retry with the DPoP-Nonce header's value", await check.nonces.issue(check.now));
    }
  }
  return { replayKey: `${jkt}:${jti}`, acceptableUntil: iat + tolerance };
}

/**
 * §11.1: the proof's jti is single use while its `iat` is acceptable.
 * @param {{ replayKey: string, acceptableUntil: number }} proof
 * @param {ReplayStore} store
 * @throws {Rejection} invalid_dpop_proof on replay; temporarily_unavailable when the store fails.
 */
export async function consumeDpopProof(proof, store) {
  let firstUse;
  try {
    firstUse = await store.consumeOnce(proof.replayKey, proof.acceptableUntil);
  } catch {
    throw new Rejection("temporarily_unavailable", "the DPoP replay store could not be reached");
  }
  if (!firstUse) throw invalid("DPoP proof jti has already been used (proofs are single use)");
}

/**
 * The default replay store: this process's memory, expired keys purged as it grows, bounded
 * (full of live keys, it refuses, so the request fails closed rather than forgetting a key).
 * @param {{ maxEntries?: number }} [options]  default 100 000 keys.
 * @returns {ReplayStore}
 */
export function memoryReplayStore({ maxEntries = 100_000 } = {}) {
  /** @type {Map<string, number>} */
  const seen = new Map();
  return {
    consumeOnce(key, expiresAtSeconds) {
      const now = Date.now() / 1000;
      const existing = seen.get(key);
      if (existing !== undefined && existing >= now) return false;
      if (seen.size >= maxEntries) {
        for (const [k, exp] of seen) if (exp < now) seen.delete(k);
        if (seen.size >= maxEntries) throw new Error("replay store full");
      }
      seen.set(key, expiresAtSeconds);
      return true;
    },
  };
}

/**
 * Stateless server nonces (RFC 9449 §9): `<issued-at>.<HMAC-SHA256>`, fresh for `lifetimeSeconds`,
 * valid on every instance that shares `secret`.
 * @param {{ secret: string | Uint8Array, lifetimeSeconds?: number }} options  secret: at least 32 bytes.
 * @returns {DpopNonceSource}
 */
export function createDpopNonces({ secret, lifetimeSeconds = 300 }) {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < 32) throw new TypeError("the DPoP nonce secret must be at least 32 bytes");
  /** @type {Promise<import("jose").CryptoKey> | undefined} */
  let key;
  const hmacKey = () => (key ??= crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
  const encoder = new TextEncoder();
  return {
    async issue(now) {
      const issuedAt = String(Math.floor(now));
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(), encoder.encode(issuedAt)));
      return `${issuedAt}.${base64url.encode(mac)}`;
    },
    async isFresh(nonce, now) {
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(nonce);
      if (match === null) return false;
      const issuedAt = Number(match[1]);
      if (issuedAt > now + 1 || now - issuedAt > lifetimeSeconds) return false;
      // crypto.subtle.verify compares in constant time.
      return crypto.subtle.verify("HMAC", await hmacKey(), base64url.decode(/** @type {string} */ (match[2])), encoder.encode(String(issuedAt)));
    },
  };
}

/** @param {string} token */
async function tokenHash(token) {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

/**
 * RFC 9449 §4.3 item 9: compare without query and fragment, after RFC 3986 §6.2.2-6.2.3
 * normalisation (URL parsing lower-cases scheme and host, drops a default port and dot segments).
 * @param {string} value
 */
export function normalizeHtu(value) {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (escape) => {
    const char = String.fromCharCode(Number.parseInt(escape.slice(1), 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : escape.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** @param {unknown} err */
function proofFailure(err) {
  if (err instanceof errors.JOSEAlgNotAllowed) return "DPoP proof alg must be an asymmetric signature algorithm";
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === "typ") return "DPoP proof typ header must be dpop+jwt";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "DPoP proof signature does not verify with its jwk";
  if (err instanceof errors.JWSInvalid && /jwk/i.test(err.message)) return "DPoP proof header must carry the public jwk of its key";
  return "DPoP proof is not a valid signed JWT";
}

/** @param {string} description */
function invalid(description) {
  return new Rejection("invalid_dpop_proof", description);
}
