/**
 * DPoP at the token endpoint (RFC 9449): whether a request must carry a proof (§5.2), the checks
 * of §4.3 in a fixed order (header, key, signature, then claims against one `now`), the server
 * nonce of §8, and single use of each proof's jti (§11.1). Plain functions: the route passes the
 * DPoP header, the method and the URL.
 *
 * Nothing is consumed here until `consumeDpopProof`, which the token endpoint calls only after
 * every other check of the request passed (with the client assertion's own jti).
 */
import { calculateJwkThumbprint, type JWK } from "jose";
import { OAuthError } from "../http/errors.js";
import type { ClientRecord } from "../stores/clients.js";
import type { JtiRegistry } from "../stores/replay-guard.js";
import type { ReplayScope } from "../stores/replay-topology.js";
import { isAsymmetricAlg, keyTypeForAlg, PRIVATE_JWK_MEMBERS, RSA_MIN_MODULUS_BITS, rsaModulusBits } from "./algorithms.js";
import type { DpopNonces } from "./dpop-nonce.js";
import { decodeJsonSegment, verifyCompactJws } from "./jws.js";

/** RFC 9449 §4.2: the `typ` of a DPoP proof. */
export const DPOP_JWT_TYP = "dpop+jwt";
/** A proof is a public JWK and four short claims; even an RSA-4096 proof is far below this. */
export const MAX_DPOP_PROOF_BYTES = 8 * 1024;
/** RFC 9449 §11.1: how far a proof's `iat` may be from now, either way (plus clock skew). */
export const DPOP_IAT_WINDOW_SECONDS = 60;
/** Longest accepted proof `jti` (as for client assertions, SPEC §3 rule 10). */
export const MAX_DPOP_JTI_LENGTH = 256;
/** Prefix of the replay-guard key space of DPoP proofs; `:` never occurs in a client_id. */
const DPOP_REPLAY_PREFIX = "dpop:";

const INVALID_PROOF = {
  dpop_proof_required: "this client is registered with dpop_bound_access_tokens: send a DPoP proof header",
  dpop_multiple_headers: "more than one DPoP header was sent; send exactly one",
  dpop_too_large: "DPoP proof is larger than 8 KiB",
  dpop_not_jws: "DPoP proof is not a compact JWS (three base64url segments with a JSON header and a signature)",
  dpop_typ_invalid: "DPoP proof typ header must be dpop+jwt",
  dpop_alg_not_allowed: "DPoP proof alg must be an asymmetric signature algorithm (RS*, PS*, ES*, EdDSA, Ed25519)",
  dpop_crit_unsupported: "DPoP proof has a crit header parameter this server does not understand",
  dpop_jwk_missing: "DPoP proof header has no jwk (the client's public key)",
  dpop_jwk_private: "DPoP proof jwk contains private key material",
  dpop_jwk_alg_mismatch: "DPoP proof jwk key type does not match its alg",
  dpop_jwk_too_weak: "DPoP proof jwk is an RSA key shorter than 2048 bits",
  dpop_jwk_invalid: "DPoP proof jwk cannot be imported as a public key",
  dpop_signature_invalid: "DPoP proof signature does not verify with its jwk",
  dpop_payload_invalid: "DPoP proof payload is not a JSON object",
  dpop_jti_missing: "DPoP proof jti is missing",
  dpop_jti_too_long: "DPoP proof jti is longer than 256 characters",
  dpop_htm_missing: "DPoP proof htm is missing",
  dpop_htm_mismatch: "DPoP proof htm does not match the HTTP method of the request",
  dpop_htu_missing: "DPoP proof htu is missing or not an absolute http(s) URL",
  dpop_htu_mismatch: "DPoP proof htu does not match the URL of the request",
  dpop_iat_missing: "DPoP proof iat is missing or not a number",
  dpop_iat_too_old: "DPoP proof iat is too far in the past: create a fresh proof for each request",
  dpop_iat_future: "DPoP proof iat is too far in the future",
  dpop_replayed: "DPoP proof jti has already been used (proofs are single use)",
} as const;

const NONCE_NEEDED = {
  dpop_nonce_missing: "this server requires a DPoP nonce: retry with the nonce from the DPoP-Nonce header",
  dpop_nonce_stale: "the DPoP nonce is invalid or expired: retry with the nonce from the DPoP-Nonce header",
} as const;

export type DpopFailureReason = keyof typeof INVALID_PROOF | keyof typeof NONCE_NEEDED;

/** Every public description, for tests that check they are distinct. */
export const ALL_DPOP_DESCRIPTIONS: readonly string[] = [...Object.values(INVALID_PROOF), ...Object.values(NONCE_NEEDED)];

/** How a proof that does not verify with its own jwk fails. */
const PROOF_VERIFICATION_FAILURE = {
  key_invalid: "dpop_jwk_invalid",
  signature_invalid: "dpop_signature_invalid",
  payload_invalid: "dpop_payload_invalid",
} as const satisfies Record<string, keyof typeof INVALID_PROOF>;

function invalidProof(reason: keyof typeof INVALID_PROOF): OAuthError {
  return new OAuthError("invalid_dpop_proof", INVALID_PROOF[reason], reason);
}

/** RFC 9449 §8: `use_dpop_nonce` with a fresh nonce in the `DPoP-Nonce` header. */
async function nonceNeeded(reason: keyof typeof NONCE_NEEDED, nonces: DpopNonces, now: number): Promise<OAuthError> {
  const err = new OAuthError("use_dpop_nonce", NONCE_NEEDED[reason], reason);
  err.headers = { "DPoP-Nonce": await nonces.issue(now) };
  return err;
}

/** The HTTP request a proof must match. */
export interface DpopHttpRequest {
  /** The `DPoP` header as `Headers.get` returns it (repeated headers joined by ", "), or null. */
  readonly proof: string | null;
  readonly method: string;
  readonly url: string;
}

export interface DpopRules {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly clockSkewSeconds: number;
  /** Nonce source when DPOP_NONCE is `required`; null when nonces are off. */
  readonly nonces: DpopNonces | null;
}

/** A proof that passed every check but single use. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: the token's `cnf.jkt` (RFC 9449 §6.1). */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
}

/**
 * The token request's DPoP proof, checked: null when none was sent and the client may do without.
 * @throws OAuthError invalid_dpop_proof naming the failed check, or use_dpop_nonce.
 */
export async function checkTokenRequestDpop(
  request: DpopHttpRequest,
  client: ClientRecord,
  rules: DpopRules,
): Promise<VerifiedDpopProof | null> {
  if (request.proof === null) {
    // RFC 9449 §5.2: "the authorization server MUST reject token requests from the client that do
    // not contain the DPoP header". invalid_dpop_proof, not invalid_request: see docs/token-lifecycle.md.
    if (client.dpop_bound_access_tokens) throw invalidProof("dpop_proof_required");
    return null;
  }
  return verifyDpopProof(request.proof, request, rules);
}

/**
 * RFC 9449 §4.3 items 1-11 for one proof.
 * @throws OAuthError invalid_dpop_proof naming the failed check, or use_dpop_nonce.
 */
export async function verifyDpopProof(
  proof: string,
  request: Pick<DpopHttpRequest, "method" | "url">,
  rules: DpopRules,
): Promise<VerifiedDpopProof> {
  // §4.3 items 1-2: exactly one header, one well-formed JWT. A JWS never contains ",".
  if (proof.includes(",")) throw invalidProof("dpop_multiple_headers");
  if (proof.length > MAX_DPOP_PROOF_BYTES) throw invalidProof("dpop_too_large");
  const segments = proof.split(".");
  if (segments.length !== 3 || segments.some((segment) => segment === "")) throw invalidProof("dpop_not_jws");
  const header = decodeJsonSegment(segments[0]!);
  if (header === undefined) throw invalidProof("dpop_not_jws");

  // §4.3 items 4-5: typ, and an asymmetric alg (never none, never HMAC).
  if (header.typ !== DPOP_JWT_TYP) throw invalidProof("dpop_typ_invalid");
  const alg = header.alg;
  if (!isAsymmetricAlg(alg)) throw invalidProof("dpop_alg_not_allowed");
  if (header.crit !== undefined) throw invalidProof("dpop_crit_unsupported");

  // §4.3 items 6-7: the embedded public jwk, and the signature made with it.
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw invalidProof("dpop_jwk_missing");
  const publicJwk = jwk as JWK;
  if (PRIVATE_JWK_MEMBERS.some((member) => member in publicJwk)) throw invalidProof("dpop_jwk_private");
  const { kty, crv } = keyTypeForAlg(alg);
  if (publicJwk.kty !== kty || (crv !== undefined && publicJwk.crv !== crv)) throw invalidProof("dpop_jwk_alg_mismatch");
  if (kty === "RSA" && rsaModulusBits(typeof publicJwk.n === "string" ? publicJwk.n : "") < RSA_MIN_MODULUS_BITS) {
    throw invalidProof("dpop_jwk_too_weak");
  }
  const verified = await verifyCompactJws(proof, alg, [publicJwk]);
  if (!verified.ok) throw invalidProof(PROOF_VERIFICATION_FAILURE[verified.problem]);
  const claims = verified.claims;

  // §4.2 / §4.3 items 3 and 8-11: claims, against one `now`.
  const jti = claims.jti;
  if (typeof jti !== "string" || jti === "") throw invalidProof("dpop_jti_missing");
  if (jti.length > MAX_DPOP_JTI_LENGTH) throw invalidProof("dpop_jti_too_long");
  if (typeof claims.htm !== "string") throw invalidProof("dpop_htm_missing");
  if (claims.htm !== request.method) throw invalidProof("dpop_htm_mismatch");
  const htu = typeof claims.htu === "string" ? normalizeHtu(claims.htu) : undefined;
  if (htu === undefined) throw invalidProof("dpop_htu_missing");
  if (htu !== normalizeHtu(request.url)) throw invalidProof("dpop_htu_mismatch");
  const iat = claims.iat;
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw invalidProof("dpop_iat_missing");
  const tolerance = DPOP_IAT_WINDOW_SECONDS + rules.clockSkewSeconds;
  if (iat < rules.now - tolerance) throw invalidProof("dpop_iat_too_old");
  if (iat > rules.now + tolerance) throw invalidProof("dpop_iat_future");
  if (rules.nonces !== null) {
    // §8: with nonces on, a proof without a current server nonce is answered with a fresh one.
    if (typeof claims.nonce !== "string" || claims.nonce === "") throw await nonceNeeded("dpop_nonce_missing", rules.nonces, rules.now);
    if (!(await rules.nonces.isFresh(claims.nonce, rules.now))) throw await nonceNeeded("dpop_nonce_stale", rules.nonces, rules.now);
  }

  return { jkt: await calculateJwkThumbprint(publicJwk, "sha256"), jti, iat };
}

/**
 * RFC 9449 §11.1: record the proof's jti, per proof key, until the proof can no longer be accepted,
 * in the replay-guard objects of the client whose token request it accompanies (`scope`, SPEC
 * §10): they are near that client, and the proof is checked in parallel with its assertion.
 * @throws OAuthError invalid_dpop_proof on replay; 503 when the replay guard is unreachable.
 */
export async function consumeDpopProof(proof: VerifiedDpopProof, scope: ReplayScope, registry: JtiRegistry, clockSkewSeconds: number): Promise<void> {
  const acceptableUntil = proof.iat + DPOP_IAT_WINDOW_SECONDS + clockSkewSeconds;
  const firstUse = await registry.consumeOnce(scope, `${DPOP_REPLAY_PREFIX}${proof.jkt}`, proof.jti, acceptableUntil);
  if (!firstUse) throw invalidProof("dpop_replayed");
}

/**
 * RFC 9449 §4.3 item 9: the URL without query and fragment, after RFC 3986 §6.2.2 syntax-based and
 * §6.2.3 scheme-based normalisation (scheme and host lower case, default port dropped, dot
 * segments removed, an empty path as "/", percent-encodings upper case and unreserved ones decoded).
 * Undefined for anything but an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (escape) => {
    const char = String.fromCharCode(Number.parseInt(escape.slice(1), 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : escape.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}
