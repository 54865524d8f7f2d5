/**
 * The rules of one RFC 7523 client assertion (`private_key_jwt`, `client_secret_jwt`), SPEC §3, in
 * the order index.ts applies them: parsed (rule 2) → the client it names, from claims not yet
 * trusted → header for that client (rules 3, 9) → signature against the candidate keys (rule 5; the
 * keys, rule 4, from keys.ts) → claims (rules 6-8 and the shape of 10), checked like jose's
 * jwt_claims_set helper in a fixed order against one `now`. Rule 10's single-use `jti` is consumed
 * by index.ts, last, so a request that fails a later check does not burn the assertion.
 */
import type { JWSHeaderParameters } from "jose";
import type { AudienceMode } from "../../core/client-record.js";
import type { ClientRecord } from "../../core/client-record.js";
import { isAsymmetricAlg, isHmacAlg, sameAlgorithm, type AssertionAlg } from "../../core/algorithms.js";
import { CLIENT_AUTH_JWT_TYP, MAX_JTI_LENGTH, MAX_JWT_BYTES } from "../../core/protocol.js";
import { checkTimeClaims } from "../../core/time-claims.js";
import { decodeJsonSegment, verifyCompactJws, type VerificationKey } from "../jws.js";
import { clientAuthFailed } from "./failures.js";

/** A compact JWS split and decoded, not yet verified. */
export interface ParsedAssertion {
  readonly compact: string;
  readonly header: JWSHeaderParameters;
  /** Claims as sent. Untrusted until the signature is verified: used only to find the client. */
  readonly unverifiedClaims: Record<string, unknown> | undefined;
}

/**
 * SPEC §3 rule 2: a compact JWS of at most 8 KiB, never JWE, never `alg: none`.
 * @throws OAuthError invalid_client naming the rule.
 */
export function parseClientAssertion(compact: string): ParsedAssertion {
  if (compact.length > MAX_JWT_BYTES) throw clientAuthFailed("assertion_too_large");
  const segments = compact.split(".");
  if (segments.length === 5) throw clientAuthFailed("assertion_is_jwe");
  if (segments.length !== 3 || segments[0] === "" || segments[1] === "") throw clientAuthFailed("assertion_not_jws");
  // RFC 7515 §2 / RFC 4648 §3.5: one spelling per byte string. A lenient decoder would accept
  // padding, whitespace or non-zero unused bits in the signature, so one signed assertion would
  // have many accepted forms (found by test/fuzz/assertion-mutations.test.ts).
  if (!segments.every(isCanonicalBase64url)) throw clientAuthFailed("assertion_not_jws");
  const header = decodeJsonSegment(segments[0]!);
  if (header === undefined) throw clientAuthFailed("assertion_not_jws");
  if (typeof header.enc === "string") throw clientAuthFailed("assertion_is_jwe");
  if (typeof header.alg !== "string") throw clientAuthFailed("assertion_not_jws");
  if (header.alg.toLowerCase() === "none") throw clientAuthFailed("assertion_alg_none");
  if (segments[2] === "") throw clientAuthFailed("assertion_not_jws");
  return { compact, header: header as JWSHeaderParameters, unverifiedClaims: decodeJsonSegment(segments[1]!) };
}

/** Which client an assertion is presented for, found before anything in it is trusted. */
export interface NamedClient {
  readonly clientId: string;
  /**
   * The client_id parameter names a client that the assertion's iss/sub do not: not the client's
   * own assertion, but perhaps a trusted issuer's token for its federated credentials (SPEC §9).
   */
  readonly claimsNameAnother: boolean;
}

/**
 * RFC 7523 §3: the client is named by the client_id parameter, else by the (not yet verified) sub,
 * else iss. These claims only choose whose keys to try: SPEC §3 rule 6 (iss = sub = client_id) is
 * checked once, on the verified claims (checkAssertionClaims below). The client_id parameter needs no
 * second check there: when sent, it is the client_id the claims are compared with.
 * @throws OAuthError invalid_client when nothing names a client.
 */
export function nameAssertionClient(clientIdParameter: string | undefined, unverifiedClaims: Record<string, unknown> | undefined): NamedClient {
  const clientId = clientIdParameter ?? stringClaim(unverifiedClaims?.sub) ?? stringClaim(unverifiedClaims?.iss);
  if (clientId === undefined) throw clientAuthFailed("client_id_undeterminable");
  const named = [unverifiedClaims?.iss, unverifiedClaims?.sub].filter((v) => typeof v === "string");
  return { clientId, claimsNameAnother: clientIdParameter !== undefined && named.length > 0 && !named.includes(clientIdParameter) };
}

/**
 * SPEC §3 rule 5: the signature verifies under one of the candidate keys before any claim is trusted.
 * @returns the verified claims.
 * @throws OAuthError invalid_client naming the failure.
 */
export async function verifyAssertionSignature(parsed: ParsedAssertion, alg: AssertionAlg, keys: readonly VerificationKey[]): Promise<Record<string, unknown>> {
  const result = await verifyCompactJws(parsed.compact, alg, keys);
  if (result.ok) return result.claims;
  // A registered JWK that WebCrypto cannot import matches no key.
  if (result.problem === "key_invalid") throw clientAuthFailed("assertion_key_not_found");
  throw clientAuthFailed(result.problem === "payload_invalid" ? "assertion_payload_invalid" : "assertion_signature_invalid");
}

/**
 * Rules 3 and 9: alg allowed for the method and registration, no unknown crit, typ by mode.
 * @param audienceMode the mode in force for this client (its override, else the server's).
 * @throws OAuthError invalid_client naming the first rule that failed.
 */
export function checkAssertionHeader(header: JWSHeaderParameters, client: ClientRecord, audienceMode: AudienceMode): AssertionAlg {
  const alg = header.alg;
  const allowed = client.token_endpoint_auth_method === "private_key_jwt" ? isAsymmetricAlg(alg) : isHmacAlg(alg);
  if (!allowed) throw clientAuthFailed("assertion_alg_not_allowed");
  if (client.token_endpoint_auth_signing_alg !== undefined && !sameAlgorithm(alg as string, client.token_endpoint_auth_signing_alg)) {
    throw clientAuthFailed("assertion_alg_not_registered");
  }
  // RFC 7515 §4.1.11: this server implements no crit extension, so any crit is unknown.
  if (header.crit !== undefined) throw clientAuthFailed("assertion_crit_unsupported");
  const typ = header.typ;
  const typOk =
    audienceMode === "strict"
      ? typ === CLIENT_AUTH_JWT_TYP
      : typ === undefined || typ === "JWT" || typ === CLIENT_AUTH_JWT_TYP;
  if (!typOk) throw clientAuthFailed("assertion_typ_invalid");
  return alg as AssertionAlg;
}

const BASE64URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * Whether `segment` is the one base64url spelling of its bytes (RFC 4648 §3.5, §5; RFC 7515 §2):
 * alphabet only, no padding, a length that is not 1 mod 4, and the unused low bits of a partial
 * last group zero. Checked arithmetically, without decoding (this runs on every token request).
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL_TEXT.test(segment)) return false;
  const partial = segment.length % 4;
  if (partial === 0) return true;
  if (partial === 1) return false;
  // Two characters carry one byte (4 spare bits), three carry two bytes (2 spare bits).
  const last = BASE64URL_CHARS.indexOf(segment[segment.length - 1]!);
  return (last & (partial === 2 ? 0b1111 : 0b11)) === 0;
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

// ---- Rules 6-8 and the shape of 10: the claims of an assertion whose signature has verified.

export interface ClaimRules {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly clockSkewSeconds: number;
  readonly maxLifetimeSeconds: number;
  /**
   * Accepted `aud` values, compared as exact strings (no case folding): the issuer identifier
   * (also with its one trailing `/`, core/protocol.js issuerAudiences), plus in compat mode the URL of the
   * endpoint that was called.
   */
  readonly acceptedAudiences: readonly string[];
}

/** What a valid assertion yields: the jti to consume and until when to remember it. */
export interface VerifiedAssertion {
  readonly jti: string;
  readonly exp: number;
}

/**
 * Check the claims of an assertion whose signature has been verified.
 * @param clientId the client the assertion was presented for (the client_id parameter, if sent).
 * @throws OAuthError invalid_client naming the first rule that failed.
 */
export function checkAssertionClaims(claims: Record<string, unknown>, clientId: string, rules: ClaimRules): VerifiedAssertion {
  // Rule 6: iss = sub = client_id (RFC 7523 §3 items 1-2). `clientId` is the client_id parameter
  // when one was sent (assertion.ts nameAssertionClient), so the parameter is equal too.
  if (claims.iss !== clientId) throw clientAuthFailed("assertion_iss_mismatch");
  if (claims.sub !== clientId) throw clientAuthFailed("assertion_sub_mismatch");

  // Rule 7: aud is one accepted value, as a string or a one-element array (RFC 7523 §3 item 3).
  checkAudience(claims.aud, rules.acceptedAudiences);

  // Rule 8: exp required, in the future, not too far ahead; iat and nbf sane (RFC 7523 §3 items 4-6),
  // by core/time-claims.js; each rule's reason is `assertion_<rule>`.
  const timeProblem = checkTimeClaims(claims, rules);
  if (timeProblem !== undefined) throw clientAuthFailed(`assertion_${timeProblem}`);

  // Rule 10, shape: the jti that will be consumed.
  const jti = claims.jti;
  if (typeof jti !== "string" || jti === "") throw clientAuthFailed("assertion_jti_missing");
  if (jti.length > MAX_JTI_LENGTH) throw clientAuthFailed("assertion_jti_too_long");

  return { jti, exp: claims.exp as number };
}

function checkAudience(aud: unknown, accepted: readonly string[]): void {
  if (aud === undefined || aud === null || (Array.isArray(aud) && aud.length === 0)) throw clientAuthFailed("assertion_aud_missing");
  if (typeof aud === "string") {
    if (!accepted.includes(aud)) throw clientAuthFailed("assertion_aud_invalid");
    return;
  }
  if (!Array.isArray(aud)) throw clientAuthFailed("assertion_aud_invalid");
  if (!aud.some((value) => typeof value === "string" && accepted.includes(value))) throw clientAuthFailed("assertion_aud_invalid");
  // RFC 7523bis / FAPI 2.0: no other audiences beside ours, so the assertion cannot be replayed elsewhere.
  if (aud.length !== 1) throw clientAuthFailed("assertion_aud_extra_values");
}
