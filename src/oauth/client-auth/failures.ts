/**
 * Every way client authentication can fail, each with its own stable reason and public text
 * (SPEC §2, §3). Request-shape problems are `invalid_request` (400); no client authentication at
 * all and every failure to authenticate are `invalid_client` (401). Texts name the rule, never the secret or the assertion.
 */
import { OAuthError } from "../../core/errors.js";

const MALFORMED_REQUEST = {
  multiple_client_authentication: "more than one client authentication mechanism was used; use exactly one",
  assertion_type_missing: "client_assertion_type is required with client_assertion",
  assertion_type_invalid: "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (or ...:jwt-spiffe for a SPIFFE JWT-SVID)",
  assertion_missing: "client_assertion is required with client_assertion_type",
  basic_header_malformed: "the Authorization header is not valid HTTP Basic credentials",
} as const;

const FAILED_AUTHENTICATION = {
  // RFC 6749 §5.2 lists "no client authentication included" under invalid_client (SPEC §2).
  no_client_authentication: "no client authentication: send a client_assertion, HTTP Basic credentials or client_secret",
  secret_without_client_id: "client_secret was sent without client_id: no client is named",
  // Who the client is, and how it must authenticate.
  unknown_or_disabled_client: "client authentication failed: unknown or disabled client",
  client_id_undeterminable: "client_assertion does not identify the client: send client_id or set sub",
  auth_method_not_registered: "client authentication failed: this client is registered for another token_endpoint_auth_method",
  secret_mismatch: "client authentication failed: wrong client secret",
  basic_client_id_mismatch: "the client_id parameter differs from the client_id of the HTTP Basic credentials",
  // RFC 7523 assertion rules, in the order they are checked (SPEC §3 rules 2-10).
  assertion_too_large: "client_assertion is larger than 8 KiB",
  assertion_is_jwe: "client_assertion is encrypted (JWE); a signed JWT (JWS) is required",
  assertion_not_jws: "client_assertion is not a compact JWS (three base64url segments with a JSON header)",
  assertion_alg_none: "client_assertion is unsecured (alg none)",
  assertion_alg_not_allowed: "client_assertion alg is not allowed for the client's token_endpoint_auth_method",
  assertion_alg_not_registered: "client_assertion alg differs from the client's token_endpoint_auth_signing_alg",
  assertion_crit_unsupported: "client_assertion has a crit header parameter this server does not understand",
  assertion_typ_invalid: "client_assertion typ header is not accepted (compat: absent, JWT or client-authentication+jwt; strict: client-authentication+jwt)",
  assertion_key_not_found: "no registered key of the client matches the client_assertion kid and alg",
  assertion_key_ambiguous: "several registered keys match the client_assertion alg; set kid",
  assertion_key_too_weak: "the client's matching RSA key is shorter than 2048 bits",
  assertion_secret_too_short: "the client secret is shorter than the HMAC output of the client_assertion alg",
  assertion_jwks_unavailable: "the client's jwks_uri could not be fetched (network error, timeout, redirect, non-200 status or larger than the size limit)",
  assertion_jwks_uri_not_allowed: "the client's jwks_uri names an address this server does not fetch (loopback, private, link-local or non-public IP, localhost, trailing dot, or not https)",
  assertion_jwks_invalid: "the client's jwks_uri returned no usable JWK Set (not a JWK Set, private key material, or no usable signing key)",
  assertion_signature_invalid: "client_assertion signature verification failed",
  assertion_payload_invalid: "client_assertion payload is not a JSON object",
  assertion_iss_mismatch: "client_assertion iss must equal the client_id",
  assertion_sub_mismatch: "client_assertion sub must equal the client_id",
  assertion_client_id_mismatch: "the client_id parameter differs from the client_assertion iss/sub",
  assertion_aud_missing: "client_assertion aud is missing",
  assertion_aud_invalid: "client_assertion aud is not this server's issuer or token endpoint URL",
  assertion_aud_extra_values: "client_assertion aud array must contain exactly one accepted value and nothing else",
  assertion_exp_missing: "client_assertion exp is missing or not a number",
  assertion_expired: "client_assertion has expired (exp is in the past)",
  assertion_exp_too_far: "client_assertion exp is too far in the future (more than ASSERTION_MAX_LIFETIME)",
  assertion_iat_invalid: "client_assertion iat is not a number",
  assertion_iat_future: "client_assertion iat is in the future",
  assertion_exp_before_iat: "client_assertion exp is not after iat",
  assertion_lifetime_too_long: "client_assertion lifetime (exp - iat) exceeds ASSERTION_MAX_LIFETIME",
  assertion_nbf_invalid: "client_assertion nbf is not a number",
  assertion_nbf_future: "client_assertion is not yet valid (nbf is in the future)",
  assertion_jti_missing: "client_assertion jti is missing",
  assertion_jti_too_long: "client_assertion jti is longer than 256 characters",
  assertion_replayed: "client_assertion jti has already been used (assertions are single use)",
  // Federated client authentication (SPEC §9): a trusted issuer's token, in the order checked.
  federated_issuer_unknown: "federated client_assertion: its issuer (iss) is not a trusted issuer",
  federated_no_credential: "federated client_assertion: the client has no federated credential for this issuer",
  federated_spiffe_type_mismatch: "client_assertion_type jwt-spiffe is only for a JWT-SVID from a trusted SPIFFE issuer",
  federated_alg_not_allowed: "federated client_assertion alg is not one of the trusted issuer's allowed_algs",
  federated_keys_unavailable: "the trusted issuer's keys could not be fetched (discovery, jwks_uri or bundle endpoint: network error, timeout, redirect, non-200 status or too large)",
  federated_keys_invalid: "the trusted issuer published no usable keys (invalid discovery document, issuer mismatch in it, or no usable JWK Set)",
  federated_key_not_found: "no key of the trusted issuer matches the federated client_assertion kid and alg",
  federated_signature_invalid: "federated client_assertion signature verification failed",
  federated_iss_mismatch: "federated client_assertion iss differs from the trusted issuer",
  federated_exp_missing: "federated client_assertion exp is missing or not a number",
  federated_expired: "federated client_assertion has expired (exp is in the past)",
  federated_exp_too_far: "federated client_assertion exp is further in the future than the issuer's max_token_lifetime",
  federated_iat_invalid: "federated client_assertion iat is not a number",
  federated_iat_future: "federated client_assertion iat is in the future",
  federated_exp_before_iat: "federated client_assertion exp is not after iat",
  federated_lifetime_too_long: "federated client_assertion lifetime (exp - iat) exceeds the issuer's max_token_lifetime",
  federated_nbf_invalid: "federated client_assertion nbf is not a number",
  federated_nbf_future: "federated client_assertion is not yet valid (nbf is in the future)",
  federated_aud_mismatch: "federated client_assertion aud does not contain the credential's audience (this server's issuer identifier)",
  federated_sub_mismatch: "federated client_assertion sub differs from the credential's subject",
  federated_sub_pattern_mismatch: "federated client_assertion sub does not match the credential's subject_pattern",
  federated_claim_mismatch: "federated client_assertion claim differs from the credential's pinned value",
  federated_no_credential_matched: "no federated credential of this client matches the client_assertion (POST /admin/clients/:id/federation/explain shows which rule failed for each)",
  federated_jti_missing: "federated client_assertion has no jti, and the trusted issuer's tokens are single use",
  federated_jti_too_long: "federated client_assertion jti is longer than 256 characters",
  federated_jti_replayed: "federated client_assertion jti has already been used (this issuer's tokens are single use)",
  federated_token_expiring: "federated client_assertion expires now: no access token can be shorter-lived than it",
  // Only in explain answers: a credential of the client that names another issuer.
  federated_credential_other_issuer: "the credential names another issuer than the client_assertion's",
} as const;

export type MalformedRequestReason = keyof typeof MALFORMED_REQUEST;
export type ClientAuthFailureReason = keyof typeof FAILED_AUTHENTICATION;

/** 400 invalid_request for a request whose client authentication is not well formed. */
export function malformedClientAuth(reason: MalformedRequestReason): OAuthError {
  return new OAuthError("invalid_request", MALFORMED_REQUEST[reason], reason);
}

/** 401 invalid_client for a client that did not authenticate. */
export function clientAuthFailed(reason: ClientAuthFailureReason): OAuthError {
  return new OAuthError("invalid_client", FAILED_AUTHENTICATION[reason], reason);
}

/** 401 invalid_client for a pinned claim that differs; the text names the claim, never its value. */
export function pinnedClaimFailed(claim: string): OAuthError {
  return new OAuthError("invalid_client", `${FAILED_AUTHENTICATION.federated_claim_mismatch}: ${claim}`, "federated_claim_mismatch");
}

/** Every public description, for tests that check they are distinct. */
export const ALL_CLIENT_AUTH_DESCRIPTIONS: readonly string[] = [
  ...Object.values(MALFORMED_REQUEST),
  ...Object.values(FAILED_AUTHENTICATION),
];
