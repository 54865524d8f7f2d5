// @ts-check
/**
 * The `exp`, `iat` and `nbf` checks of a JWT, once for every caller (like jose's validateClaimsSet
 * and oauth4webapi's validateJwt), in a fixed order against one injected `now`. It names the rule
 * that failed; each caller maps that to its own reasons (client assertions: SPEC §3 rule 8,
 * federated assertions: SPEC §9, DPoP proofs: RFC 9449 §4.3 item 11).
 *
 * Two shapes of rule:
 * - a token with a lifetime cap (`maxLifetimeSeconds`): `exp` required, after now − skew and at most
 *   cap + skew ahead (so the cap holds without `iat` too); `iat`, when present, not after now + skew,
 *   before `exp` and at most the cap before it; `nbf`, when present, not after now + skew;
 * - a proof with an `iat` window (`iatWindowSeconds`): `iat` required, at most window + skew from
 *   now either way. RFC 9449 defines no `exp` or `nbf` for a proof, so they are not read.
 */

/**
 * @typedef {"exp_missing" | "expired" | "exp_too_far" | "iat_invalid" | "iat_future" | "exp_before_iat" | "lifetime_too_long" | "nbf_invalid" | "nbf_future"} LifetimeProblem
 * @typedef {"iat_invalid" | "iat_too_old" | "iat_future"} IatWindowProblem
 */

/**
 * @overload
 * @param {Record<string, unknown>} claims
 * @param {{ now: number, clockSkewSeconds: number, maxLifetimeSeconds: number }} rules  `now` in seconds.
 * @returns {LifetimeProblem | undefined}
 */
/**
 * @overload
 * @param {Record<string, unknown>} claims
 * @param {{ now: number, clockSkewSeconds: number, iatWindowSeconds: number }} rules  `now` in seconds.
 * @returns {IatWindowProblem | undefined}
 */
/**
 * The first time rule `claims` break, or undefined.
 * @param {Record<string, unknown>} claims
 * @param {{ now: number, clockSkewSeconds: number, maxLifetimeSeconds?: number, iatWindowSeconds?: number }} rules
 * @returns {LifetimeProblem | IatWindowProblem | undefined}
 */
export function checkTimeClaims(claims, { now, clockSkewSeconds: skew, maxLifetimeSeconds: cap, iatWindowSeconds: window }) {
  const { exp, iat, nbf } = claims;
  if (cap !== undefined) {
    if (!isNumericDate(exp)) return "exp_missing";
    if (exp <= now - skew) return "expired";
    if (exp > now + cap + skew) return "exp_too_far";
  }
  if (iat !== undefined || window !== undefined) {
    if (!isNumericDate(iat)) return "iat_invalid";
    if (window !== undefined && iat < now - window - skew) return "iat_too_old";
    if (iat > now + (window ?? 0) + skew) return "iat_future";
    if (cap !== undefined && isNumericDate(exp)) {
      if (exp <= iat) return "exp_before_iat";
      if (exp - iat > cap) return "lifetime_too_long";
    }
  }
  if (cap !== undefined && nbf !== undefined) {
    if (!isNumericDate(nbf)) return "nbf_invalid";
    if (nbf > now + skew) return "nbf_future";
  }
  return undefined;
}

/**
 * RFC 7519 §2 NumericDate: a finite JSON number.
 * @param {unknown} value
 * @returns {value is number}
 */
function isNumericDate(value) {
  return typeof value === "number" && Number.isFinite(value);
}
