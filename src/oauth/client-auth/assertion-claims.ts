/**
 * The claim rules of a verified client assertion (SPEC §3 rules 6, 7, 8 and the shape of 10;
 * RFC 7523 §3), checked in a fixed order against one `now`, like jose's jwt_claims_set helper.
 */
import { clientAuthFailed } from "./failures.js";

export interface ClaimRules {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly clockSkewSeconds: number;
  readonly maxLifetimeSeconds: number;
  /**
   * Accepted `aud` values, compared as exact strings (no trailing-slash or case folding):
   * the issuer, plus in compat mode the URL of the endpoint that was called.
   */
  readonly acceptedAudiences: readonly string[];
}

/** What a valid assertion yields: the jti to consume and until when to remember it. */
export interface VerifiedAssertion {
  readonly jti: string;
  readonly exp: number;
}

/** Longest accepted `jti` (SPEC §3 rule 10). */
export const MAX_JTI_LENGTH = 256;

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

  // Rule 8: exp required, in the future, not too far ahead; iat and nbf sane (RFC 7523 §3 items 4-6).
  const { now, clockSkewSeconds: skew, maxLifetimeSeconds: maxLifetime } = rules;
  const exp = claims.exp;
  if (!isNumericDate(exp)) throw clientAuthFailed("assertion_exp_missing");
  if (exp <= now - skew) throw clientAuthFailed("assertion_expired");
  if (exp > now + maxLifetime + skew) throw clientAuthFailed("assertion_exp_too_far");
  if (claims.iat !== undefined) {
    const iat = claims.iat;
    if (!isNumericDate(iat)) throw clientAuthFailed("assertion_iat_invalid");
    if (iat > now + skew) throw clientAuthFailed("assertion_iat_future");
    if (exp <= iat) throw clientAuthFailed("assertion_exp_before_iat");
    if (exp - iat > maxLifetime) throw clientAuthFailed("assertion_lifetime_too_long");
  }
  if (claims.nbf !== undefined) {
    if (!isNumericDate(claims.nbf)) throw clientAuthFailed("assertion_nbf_invalid");
    if (claims.nbf > now + skew) throw clientAuthFailed("assertion_nbf_future");
  }

  // Rule 10, shape: the jti that will be consumed.
  const jti = claims.jti;
  if (typeof jti !== "string" || jti === "") throw clientAuthFailed("assertion_jti_missing");
  if (jti.length > MAX_JTI_LENGTH) throw clientAuthFailed("assertion_jti_too_long");

  return { jti, exp };
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

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
