/**
 * The errors of client authentication (SPEC §2, §3, §9). Their reasons and public texts live in
 * the one catalogue (core/error-catalogue.ts): request-shape problems are `invalid_request` (400);
 * no client authentication at all and every failure to authenticate are `invalid_client` (401).
 */
import { OAuthError } from "../../core/errors.js";
import {
  CLIENT_AUTH_FAILURES,
  MALFORMED_CLIENT_AUTH,
  TRUST_EDGE_FAILURES,
  type ClientAuthFailureReason,
  type MalformedClientAuthReason,
} from "../../core/error-catalogue.js";

export type { ClientAuthFailureReason };
export type MalformedRequestReason = MalformedClientAuthReason;

/** 400 invalid_request for a request whose client authentication is not well formed. */
export function malformedClientAuth(reason: MalformedRequestReason): OAuthError {
  return new OAuthError(reason);
}

/** 401 invalid_client for a client that did not authenticate (a reason without a detail). */
export function clientAuthFailed(reason: Exclude<ClientAuthFailureReason, "federated_claim_mismatch">): OAuthError {
  return new OAuthError(reason);
}

/** 401 invalid_client for a pinned claim that differs; the text names the claim, never its value. */
export function pinnedClaimFailed(claim: string): OAuthError {
  return new OAuthError("federated_claim_mismatch", claim);
}

/** Every public description, for tests that check they are distinct. */
export const ALL_CLIENT_AUTH_DESCRIPTIONS: readonly string[] = [
  ...Object.values(MALFORMED_CLIENT_AUTH),
  ...Object.values(CLIENT_AUTH_FAILURES),
  ...Object.values(TRUST_EDGE_FAILURES),
].map((entry) => entry.description);
