// @ts-check
/**
 * DPoP at a resource server (RFC 9449 §7.1): the proof of the request checked by core/dpop.js (the
 * same checks and texts as the token endpoint) plus `ath` (the hash of this access token) and the
 * key's thumbprint equal to the token's `cnf.jkt`; the proof `jti` is single use within this
 * resource server's window, through a pluggable replay store.
 */
import { checkDpopProof as checkProof, DPOP_NONCE_WINDOW_SECONDS, DPOP_PROBLEM_TEXT, statelessDpopNonces } from "../core/dpop.js";
import { Rejection } from "./errors.js";

/**
 * Records a proof `jti` and says whether this was its first use. Implement it over shared storage
 * (a Durable Object, Redis SET NX) when several instances serve one resource.
 * @typedef {object} ReplayStore
 * @property {(key: string, expiresAtSeconds: number) => boolean | Promise<boolean>} consumeOnce
 *   true on first use; keep the key at least until `expiresAtSeconds`.
 */

/** @typedef {import("../core/dpop.js").DpopNonceSource} DpopNonceSource  server nonces, e.g. from createDpopNonces(). */

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
  const checked = await checkProof(proof, check, {
    now: check.now,
    clockSkewSeconds: check.clockSkewSeconds,
    iatWindowSeconds: check.iatWindowSeconds,
    nonces: check.nonces ?? null,
    jkt: check.jkt,
    accessToken: check.accessToken,
  });
  if (checked.ok) return { replayKey: `${checked.jkt}:${checked.jti}`, acceptableUntil: checked.acceptableUntil };
  if (check.nonces !== undefined && checked.problem.startsWith("nonce_")) {
    throw new Rejection("use_dpop_nonce", DPOP_PROBLEM_TEXT[checked.problem], await check.nonces.issue(check.now));
  }
  throw invalid(DPOP_PROBLEM_TEXT[checked.problem]);
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
  if (!firstUse) throw invalid(DPOP_PROBLEM_TEXT.replayed);
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
 * Stateless server nonces (RFC 9449 §9, core/dpop.js): a nonce names a `windowSeconds` window and
 * carries its HMAC-SHA256 under `secret`; it is accepted in its own window and the next (so for
 * `windowSeconds` to twice that), on every instance that shares `secret`.
 * @param {{ secret: string | Uint8Array, windowSeconds?: number }} options  secret: at least 32 bytes; windowSeconds: default 300.
 * @returns {DpopNonceSource}
 */
export function createDpopNonces({ secret, windowSeconds = DPOP_NONCE_WINDOW_SECONDS }) {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < 32) throw new TypeError("the DPoP nonce secret must be at least 32 bytes");
  /** @type {Promise<import("jose").CryptoKey> | undefined} */
  let key;
  return statelessDpopNonces(() => (key ??= crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])), windowSeconds);
}

/** @param {string} description */
function invalid(description) {
  return new Rejection("invalid_dpop_proof", description);
}
