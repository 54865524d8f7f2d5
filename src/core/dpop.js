// @ts-check
/**
 * DPoP (RFC 9449), once for the token endpoint (src/oauth/dpop.ts) and for resource servers
 * (src/resource/dpop.js): a proof checked per §4.3 in a fixed order — one header, size, compact
 * JWS, `typ`, an asymmetric `alg`, no `crit`, the embedded public `jwk` (core/algorithms.js), the
 * signature, the bound key (`cnf.jkt`, §7.1), `jti`, `htm`, `htu`, `iat` (core/time-claims.js),
 * `ath` (§7.1) and a server nonce (§8, §9) — and the stateless nonces themselves. It names the
 * check that failed; each caller maps that to its own reasons and records single use itself.
 * Plain JavaScript with JSDoc types: the `./resource` bundle takes it without server code.
 */
import { base64url, calculateJwkThumbprint, compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from "jose";
import { isAsymmetricAlg, keyTypeFits, publicJwkProblem } from "./algorithms.js";
import { DPOP_JWT_TYP, MAX_JTI_LENGTH, MAX_JWT_BYTES } from "./protocol.js";
import { checkTimeClaims } from "./time-claims.js";

/** RFC 9449 §11.1: how far a proof's `iat` may be from now, either way (plus clock skew). */
export const DPOP_IAT_WINDOW_SECONDS = 60;
/** Length of one nonce window: a nonce is accepted in its own window and the next. */
export const DPOP_NONCE_WINDOW_SECONDS = 300;

/**
 * The public text of each failed check, the same at the token endpoint (core/error-catalogue.ts,
 * reason `dpop_<problem>`) and at a resource server (src/resource/dpop.js). `jkt_mismatch` and
 * `ath_mismatch` are a resource server's only; `nonce_*` are `use_dpop_nonce`.
 */
export const DPOP_PROBLEM_TEXT = /** @type {const} */ ({
  multiple_headers: "more than one DPoP header was sent; send exactly one",
  too_large: "DPoP proof is larger than 8 KiB",
  not_jws: "DPoP proof is not a compact JWS (three base64url segments with a JSON header and a signature)",
  typ_invalid: "DPoP proof typ header must be dpop+jwt",
  alg_not_allowed: "DPoP proof alg must be an asymmetric signature algorithm (RS*, PS*, ES*, EdDSA, Ed25519)",
  crit_unsupported: "DPoP proof has a crit header parameter this server does not understand",
  jwk_missing: "DPoP proof header has no jwk (the client's public key)",
  jwk_private: "DPoP proof jwk contains private key material",
  jwk_alg_mismatch: "DPoP proof jwk key type does not match its alg",
  jwk_too_weak: "DPoP proof jwk is an RSA key shorter than 2048 bits",
  jwk_invalid: "DPoP proof jwk cannot be imported as a public key",
  signature_invalid: "DPoP proof signature does not verify with its jwk",
  payload_invalid: "DPoP proof payload is not a JSON object",
  jti_missing: "DPoP proof jti is missing",
  jti_too_long: "DPoP proof jti is longer than 256 characters",
  htm_missing: "DPoP proof htm is missing",
  htm_mismatch: "DPoP proof htm does not match the HTTP method of the request",
  htu_missing: "DPoP proof htu is missing or not an absolute http(s) URL",
  htu_mismatch: "DPoP proof htu does not match the URL of the request",
  iat_missing: "DPoP proof iat is missing or not a number",
  iat_too_old: "DPoP proof iat is too far in the past: create a fresh proof for each request",
  iat_future: "DPoP proof iat is too far in the future",
  replayed: "DPoP proof jti has already been used (proofs are single use)",
  nonce_missing: "this server requires a DPoP nonce: retry with the nonce from the DPoP-Nonce header",
  nonce_stale: "the DPoP nonce is invalid or expired: retry with the nonce from the DPoP-Nonce header",
  jkt_mismatch: "DPoP proof key is not the key the access token is bound to (cnf.jkt)",
  ath_mismatch: "DPoP proof ath does not match the access token",
});
/** @typedef {keyof typeof DPOP_PROBLEM_TEXT} DpopProblem */

/**
 * Server nonces (RFC 9449 §8, §9), e.g. from statelessDpopNonces().
 * @typedef {object} DpopNonceSource
 * @property {(nowSeconds: number) => Promise<string>} issue  a nonce for the window containing now.
 * @property {(nonce: string, nowSeconds: number) => Promise<boolean>} isFresh  issued here, this window or the last.
 */

/**
 * @typedef {object} DpopRules
 * @property {number} now  seconds since the epoch.
 * @property {number} clockSkewSeconds
 * @property {number} [iatWindowSeconds]  default DPOP_IAT_WINDOW_SECONDS.
 * @property {DpopNonceSource | null} [nonces]  when set, the proof must carry a fresh nonce.
 * @property {string} [jkt]  a resource server's: the access token's `cnf.jkt`, which the proof key must have.
 * @property {string} [accessToken]  a resource server's: the token whose hash `ath` must be.
 */

/**
 * @typedef {{ ok: true, jkt: string, jti: string, acceptableUntil: number } | { ok: false, problem: DpopProblem }} DpopCheck
 *   `jkt`: the RFC 7638 SHA-256 thumbprint of the proof key; `acceptableUntil`: until when the proof
 *   could be accepted, i.e. how long its jti must be remembered (§11.1).
 */

/**
 * Every check of one proof but single use.
 * @param {string} proof  the `DPoP` header as `Headers.get` returns it (repeated headers joined by ", ").
 * @param {{ method: string, url: string }} request  the method and the URL the client called.
 * @param {DpopRules} rules
 * @returns {Promise<DpopCheck>}
 */
export async function checkDpopProof(proof, request, rules) {
  const fail = (/** @type {DpopProblem} */ problem) => /** @type {DpopCheck} */ ({ ok: false, problem });
  // §4.3 items 1-2: exactly one header, one well-formed JWT. A JWS never contains ",".
  if (proof.includes(",")) return fail("multiple_headers");
  if (proof.length > MAX_JWT_BYTES) return fail("too_large");
  const segments = proof.split(".");
  if (segments.length !== 3 || segments.some((segment) => segment === "")) return fail("not_jws");
  const header = await orUndefined(() => decodeProtectedHeader(proof));
  if (header === undefined) return fail("not_jws");

  // §4.3 items 4-5: typ, and an asymmetric alg (never none, never HMAC); no crit extension is known.
  if (header.typ !== DPOP_JWT_TYP) return fail("typ_invalid");
  const alg = header.alg;
  if (!isAsymmetricAlg(alg)) return fail("alg_not_allowed");
  if (header.crit !== undefined) return fail("crit_unsupported");

  // §4.3 items 6-7: the embedded public jwk, and the signature made with it.
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return fail("jwk_missing");
  const keyProblem = publicJwkProblem(jwk);
  if (keyProblem?.problem === "private_key_material") return fail("jwk_private");
  if (!keyTypeFits(jwk, alg)) return fail("jwk_alg_mismatch");
  if (keyProblem?.problem === "rsa_too_weak") return fail("jwk_too_weak");
  const { alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...bare } = /** @type {import("jose").JWK} */ (jwk);
  const key = await orUndefined(() => importJWK(bare, alg));
  if (key === undefined || key instanceof Uint8Array) return fail("jwk_invalid");
  if ((await orUndefined(() => compactVerify(proof, key, { algorithms: [alg] }))) === undefined) return fail("signature_invalid");
  const claims = await orUndefined(() => decodeJwt(proof));
  if (claims === undefined) return fail("payload_invalid");

  // §7.1: at a resource server, the proof key is the key the token is bound to.
  const jkt = await calculateJwkThumbprint(/** @type {import("jose").JWK} */ (jwk), "sha256");
  if (rules.jkt !== undefined && jkt !== rules.jkt) return fail("jkt_mismatch");

  // §4.2 / §4.3 items 3 and 8-11: claims, against one `now`.
  const { jti, htm, htu, ath, nonce } = claims;
  if (typeof jti !== "string" || jti === "") return fail("jti_missing");
  if (jti.length > MAX_JTI_LENGTH) return fail("jti_too_long");
  if (typeof htm !== "string") return fail("htm_missing");
  if (htm !== request.method) return fail("htm_mismatch");
  const proofUrl = typeof htu === "string" ? normalizeHtu(htu) : undefined;
  if (proofUrl === undefined) return fail("htu_missing");
  if (proofUrl !== normalizeHtu(request.url)) return fail("htu_mismatch");
  const iatWindowSeconds = rules.iatWindowSeconds ?? DPOP_IAT_WINDOW_SECONDS;
  const timeProblem = checkTimeClaims(claims, { now: rules.now, clockSkewSeconds: rules.clockSkewSeconds, iatWindowSeconds });
  if (timeProblem !== undefined) return fail(timeProblem === "iat_invalid" ? "iat_missing" : timeProblem);
  // §4.3 item 11 / §7.1: ath is the base64url SHA-256 of the access token presented with it.
  if (rules.accessToken !== undefined && (typeof ath !== "string" || ath !== (await sha256(rules.accessToken)))) return fail("ath_mismatch");
  if (rules.nonces) {
    if (typeof nonce !== "string" || nonce === "") return fail("nonce_missing");
    if (!(await rules.nonces.isFresh(nonce, rules.now))) return fail("nonce_stale");
  }
  const acceptableUntil = /** @type {number} */ (claims.iat) + iatWindowSeconds + rules.clockSkewSeconds;
  return { ok: true, jkt, jti, acceptableUntil };
}

/**
 * RFC 9449 §4.3 item 9: the URL without query and fragment, after RFC 3986 §6.2.2 syntax-based and
 * §6.2.3 scheme-based normalisation (scheme and host lower case, default port dropped, dot
 * segments removed, an empty path as "/", percent-encodings upper case and unreserved ones decoded).
 * Undefined for anything but an absolute http(s) URL.
 * @param {string} value
 * @returns {string | undefined}
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

const WINDOW_BYTES = 4;
const MAC_BYTES = 32;

/**
 * Stateless server nonces (RFC 9449 §8, §9): a nonce names a time window and carries an HMAC of
 * it, so every instance holding the key issues and checks them without storage. A nonce is
 * accepted during its own window and the next, i.e. for `windowSeconds` to twice that. It bounds
 * how far ahead a client can pre-generate proofs (§11.2); single use is the replay store's job.
 * @param {() => Promise<import("jose").CryptoKey>} hmacKey  an HMAC-SHA256 key with sign and verify, asked for lazily.
 * @param {number} [windowSeconds]  default DPOP_NONCE_WINDOW_SECONDS.
 * @returns {DpopNonceSource}
 */
export function statelessDpopNonces(hmacKey, windowSeconds = DPOP_NONCE_WINDOW_SECONDS) {
  const windowOf = (/** @type {number} */ now) => Math.floor(now / windowSeconds) >>> 0;
  const windowBytes = (/** @type {number} */ window) => {
    const bytes = new Uint8Array(WINDOW_BYTES);
    new DataView(bytes.buffer).setUint32(0, window);
    return bytes;
  };
  return {
    async issue(now) {
      const window = windowBytes(windowOf(now));
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(), window));
      const nonce = new Uint8Array(WINDOW_BYTES + MAC_BYTES);
      nonce.set(window);
      nonce.set(mac, WINDOW_BYTES);
      // RFC 9449 §8.1: base64url is within the NQCHAR nonce syntax.
      return base64url.encode(nonce);
    },
    async isFresh(nonce, now) {
      /** @type {Uint8Array} */
      let bytes;
      try {
        bytes = base64url.decode(nonce);
      } catch {
        return false;
      }
      if (bytes.length !== WINDOW_BYTES + MAC_BYTES) return false;
      const window = bytes.slice(0, WINDOW_BYTES);
      const issuedIn = new DataView(window.buffer).getUint32(0);
      const current = windowOf(now);
      if (issuedIn !== current && issuedIn !== ((current - 1) >>> 0)) return false;
      // WebCrypto verify compares the MAC in constant time.
      return crypto.subtle.verify("HMAC", await hmacKey(), bytes.slice(WINDOW_BYTES), window);
    },
  };
}

/**
 * What `step` yields, or undefined when it throws (each failed step of a proof is its own problem).
 * @template T
 * @param {() => T | Promise<T>} step
 * @returns {Promise<T | undefined>}
 */
async function orUndefined(step) {
  try {
    return await step();
  } catch {
    return undefined;
  }
}

/** @param {string} text  base64url SHA-256 of its UTF-8 bytes. */
async function sha256(text) {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
