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
 * Every check but single use (core/dpop.js, with the token's `cnf.jkt` and the token for `ath`).
 * @param {string | null} proof  the DPoP header (repeated headers joined by ", "), or null.
 * @param {{ method: string, url: string }} request  the method and the URL the client called.
 * @param {import("../core/dpop.js").DpopRules & { jkt: string, accessToken: string }} rules
 * @returns {Promise<{ replayKey: string, acceptableUntil: number }>}  what consumeDpopProof records.
 * @throws {Rejection} invalid_dpop_proof naming the failed check, or use_dpop_nonce.
 */
export async function checkDpopProof(proof, request, rules) {
  if (proof === null || proof === "") throw invalid("the DPoP scheme needs a DPoP proof header");
  const checked = await checkProof(proof, request, rules);
  if (checked.ok) return { replayKey: `${checked.jkt}:${checked.jti}`, acceptableUntil: checked.acceptableUntil };
  if (rules.nonces && checked.problem.startsWith("nonce_")) {
    throw new Rejection("use_dpop_nonce", DPOP_PROBLEM_TEXT[checked.problem], await rules.nonces.issue(rules.now));
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
 * The default replay store: this process's memory, at most `maxEntries` keys. Expired keys go
 * first (swept at most once a second, by whole-second expiry buckets); with `maxEntries` live keys
 * held, the key that expires soonest makes room. So memory stays bounded and a valid proof is never
 * refused, but beyond `maxEntries` live proofs per process a dropped proof could be replayed here
 * until its window ends: size it for the proofs one process accepts per window (two `iat` windows
 * plus skew), and share a store across instances (docs/resource-servers.md).
 * @param {{ maxEntries?: number, now?: () => number }} [options]  default 100 000 keys; now: seconds, default the system clock.
 * @returns {ReplayStore}
 */
export function memoryReplayStore({ maxEntries = 100_000, now = () => Date.now() / 1000 } = {}) {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("maxEntries must be a whole number ≥ 1");
  /** @type {Map<string, number>} key → expiry (seconds) */
  const seen = new Map();
  /** @type {Map<number, Set<string>>} whole second of expiry → its keys, oldest first */
  const buckets = new Map();
  let nextSweep = 0;
  const forget = (/** @type {string} */ key, /** @type {number} */ expiresAt) => {
    seen.delete(key);
    const bucket = buckets.get(Math.ceil(expiresAt));
    bucket?.delete(key);
    if (bucket?.size === 0) buckets.delete(Math.ceil(expiresAt));
  };
  return {
    consumeOnce(key, expiresAtSeconds) {
      const t = now();
      if (t >= nextSweep) {
        for (const [second, keys] of buckets) if (second < t) for (const k of keys) forget(k, second);
        nextSweep = t + 1;
      }
      const existing = seen.get(key);
      if (existing !== undefined && existing >= t) return false;
      if (existing !== undefined) forget(key, existing);
      while (seen.size >= maxEntries) {
        const soonest = Math.min(...buckets.keys());
        const [first] = /** @type {Set<string>} */ (buckets.get(soonest));
        forget(/** @type {string} */ (first), soonest);
      }
      seen.set(key, expiresAtSeconds);
      const second = Math.ceil(expiresAtSeconds);
      buckets.set(second, (buckets.get(second) ?? new Set()).add(key));
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
