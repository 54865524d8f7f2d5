/**
 * The claim rules of a verified federated client assertion (SPEC §9), in a fixed order against one
 * injected `now`, with the time rules client assertions use too (core/time-claims.js): first what
 * the trusted issuer demands of every token (iss, exp, iat, nbf, lifetime cap, jti policy), then
 * what one credential demands (aud, sub or subject_pattern, each pinned claim).
 */
import type { FederatedCredential, TrustedIssuerRecord } from "../../core/federation.js";
import { MAX_JTI_LENGTH } from "../../core/protocol.js";
import { checkTimeClaims } from "../../core/time-claims.js";
import { clientAuthFailed, pinnedClaimFailed } from "../client-auth/failures.js";
import { subjectMatchesPattern } from "./subject-pattern.js";

export interface FederatedClaimRules {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly clockSkewSeconds: number;
}

/** What the issuer-level rules yield: when the token expires, and the jti to consume (single_use). */
export interface CheckedFederatedToken {
  readonly exp: number;
  readonly jti: string | undefined;
  readonly subject: string | undefined;
}

/**
 * The rules every token of `issuer` must meet.
 * @throws OAuthError invalid_client naming the first rule that failed.
 */
export function checkIssuerClaims(claims: Record<string, unknown>, issuer: TrustedIssuerRecord, rules: FederatedClaimRules): CheckedFederatedToken {
  // iss exact. A JWT-SVID may have no iss: it was found by the trust domain of its sub.
  const spiffeWithoutIss = claims.iss === undefined && issuer.issuer.startsWith("spiffe://");
  if (claims.iss !== issuer.issuer && !spiffeWithoutIss) throw clientAuthFailed("federated_iss_mismatch");

  // exp, iat, nbf and the issuer's lifetime cap (core/time-claims.js; the cap holds without iat too,
  // JWT-SVIDs need not carry one: exp − now ≤ cap); each rule's reason is `federated_<rule>`.
  const timeProblem = checkTimeClaims(claims, { ...rules, maxLifetimeSeconds: issuer.max_token_lifetime });
  if (timeProblem !== undefined) throw clientAuthFailed(`federated_${timeProblem}`);
  const exp = claims.exp as number;

  // jti policy: a single_use issuer's token without jti could be replayed at will.
  const jti = typeof claims.jti === "string" && claims.jti !== "" ? claims.jti : undefined;
  if (issuer.jti_policy === "single_use") {
    if (jti === undefined) throw clientAuthFailed("federated_jti_missing");
    if (jti.length > MAX_JTI_LENGTH) throw clientAuthFailed("federated_jti_too_long");
  }
  return { exp, jti: issuer.jti_policy === "single_use" ? jti : undefined, subject: typeof claims.sub === "string" ? claims.sub : undefined };
}

/**
 * The rules of one credential.
 * @param audiences the `aud` values that name this server for this credential (its audience, by
 *   default the server's issuer identifier; for the JWT bearer grant also the token endpoint URL).
 * @throws OAuthError invalid_client naming the first rule that failed (a pinned claim by its name).
 */
export function checkCredentialClaims(claims: Record<string, unknown>, credential: FederatedCredential, audiences: readonly string[]): void {
  // aud contains one of them (RFC 7519 §4.1.3: a string or an array of strings).
  const aud = claims.aud;
  const audOk = typeof aud === "string" ? audiences.includes(aud) : Array.isArray(aud) && aud.some((value) => typeof value === "string" && audiences.includes(value));
  if (!audOk) throw clientAuthFailed("federated_aud_mismatch");

  const sub = claims.sub;
  if (credential.subject !== undefined) {
    if (sub !== credential.subject) throw clientAuthFailed("federated_sub_mismatch");
  } else if (typeof sub !== "string" || !subjectMatchesPattern(credential.subject_pattern!, sub)) {
    throw clientAuthFailed("federated_sub_pattern_mismatch");
  }

  // Pinned claims compare as strings: GitHub's repository_id is "123456", a string claim; a number
  // or boolean claim compares by its JSON text. Objects, arrays and null never match.
  for (const [name, expected] of Object.entries(credential.claims ?? {})) {
    const value = claims[name];
    const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? JSON.stringify(value) : undefined;
    if (text !== expected) throw pinnedClaimFailed(name);
  }
}
