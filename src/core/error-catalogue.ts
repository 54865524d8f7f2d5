/**
 * Every reason a request can fail, in one place: its RFC 6749 §5.2 `error` code (and so its HTTP
 * status) and its public `error_description`. A description holding `{detail}` takes one dynamic
 * detail (a field name, a setting, a kid), passed to the `OAuthError` constructor; every other
 * text is fixed. Texts name the rule, never a secret, an assertion or a token. README
 * "Troubleshooting" has a row for each reason (test/node/troubleshooting-rows.test.ts checks it).
 */
import { DPOP_PROBLEM_TEXT, type DpopProblem } from "./dpop.js";

/** RFC 6749 §5.2 codes, plus RFC 8707 `invalid_target`, RFC 9449 DPoP codes and 503/413 cases. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "invalid_dpop_proof"
  | "use_dpop_nonce"
  | "temporarily_unavailable"
  | "server_error"
  // SPEC §11 quotas (RFC 6585 §4 status 429).
  | "too_many_requests"
  // Management API (RFC 7591 §3.2.2, RFC 6750 §3.1) and the sample route.
  | "invalid_client_metadata"
  | "invalid_token"
  | "not_found"
  | "conflict";

/** The HTTP status of each code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2). */
export const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  temporarily_unavailable: 503,
  server_error: 500,
  too_many_requests: 429,
  invalid_client_metadata: 400,
  invalid_token: 401,
  not_found: 404,
  conflict: 409,
};

interface Entry {
  readonly error: OAuthErrorCode;
  readonly description: string;
  /** Only where it differs from the code's usual status (STATUS above). */
  readonly status?: number;
}

/** Entries that share one `error` code, from `{ reason: description }`. */
function withCode<const C extends OAuthErrorCode, const T extends Record<string, string>>(error: C, texts: T): { readonly [R in keyof T]: { readonly error: C; readonly description: T[R] } } {
  return Object.fromEntries(Object.entries(texts).map(([reason, description]) => [reason, { error, description }])) as never;
}

/** Client authentication whose request is not well formed (SPEC §2): 400 `invalid_request`. */
export const MALFORMED_CLIENT_AUTH = withCode("invalid_request", {
  multiple_client_authentication: "more than one client authentication mechanism was used; use exactly one",
  assertion_type_missing: "client_assertion_type is required with client_assertion",
  assertion_type_invalid: "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (or ...:jwt-spiffe for a SPIFFE JWT-SVID)",
  assertion_missing: "client_assertion is required with client_assertion_type",
  basic_header_malformed: "the Authorization header is not valid HTTP Basic credentials",
});

/**
 * Every way client authentication fails (SPEC §2, §3, §9): 401 `invalid_client`. RFC 6749 §5.2
 * lists "no client authentication included" under invalid_client.
 */
export const CLIENT_AUTH_FAILURES = withCode("invalid_client", {
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
  federated_claim_mismatch: "federated client_assertion claim differs from the credential's pinned value: {detail}",
  federated_no_credential_matched: "no federated credential of this client matches the client_assertion (POST /admin/clients/:id/federation/explain shows which rule failed for each)",
  federated_jti_missing: "federated client_assertion has no jti, and the trusted issuer's tokens are single use",
  federated_jti_too_long: "federated client_assertion jti is longer than 256 characters",
  federated_jti_replayed: "federated client_assertion jti has already been used (this issuer's tokens are single use)",
  federated_token_expiring: "federated client_assertion expires now: no access token can be shorter-lived than it",
  // Only in explain answers: a credential of the client that names another issuer.
  federated_credential_other_issuer: "the credential names another issuer than the client_assertion's",
});

/** `dpop_<check>` for checks of core/dpop.js the token endpoint makes, with their texts (shared with ./resource). */
function dpopChecks<const C extends OAuthErrorCode, const P extends DpopProblem>(error: C, checks: readonly P[]): { readonly [K in P as `dpop_${K}`]: { readonly error: C; readonly description: (typeof DPOP_PROBLEM_TEXT)[K] } } {
  return Object.fromEntries(checks.map((check) => [`dpop_${check}`, { error, description: DPOP_PROBLEM_TEXT[check] }])) as never;
}

/** RFC 9449 §4.3 proof checks at the token endpoint: 400 `invalid_dpop_proof`. */
export const INVALID_DPOP_PROOF = {
  ...withCode("invalid_dpop_proof", { dpop_proof_required: "this client is registered with dpop_bound_access_tokens: send a DPoP proof header" }),
  ...dpopChecks("invalid_dpop_proof", [
    "multiple_headers", "too_large", "not_jws", "typ_invalid", "alg_not_allowed",
    "crit_unsupported", "jwk_missing", "jwk_private", "jwk_alg_mismatch", "jwk_too_weak",
    "jwk_invalid", "signature_invalid", "payload_invalid", "jti_missing", "jti_too_long",
    "htm_missing", "htm_mismatch", "htu_missing", "htu_mismatch", "iat_missing", "iat_too_old",
    "iat_future", "replayed",
  ]),
};

/** RFC 9449 §8: a server nonce is needed (the response carries a fresh one in `DPoP-Nonce`). */
export const DPOP_NONCE_NEEDED = dpopChecks("use_dpop_nonce", ["nonce_missing", "nonce_stale"]);

/** Request shape, grant, scope and resource decisions at the token, introspection and revocation endpoints. */
const TOKEN_REQUESTS = {
  form_content_type: { error: "invalid_request", description: "the request body must be application/x-www-form-urlencoded" },
  form_duplicate_parameter: { error: "invalid_request", description: "parameter '{detail}' appears more than once" },
  body_too_large: { error: "invalid_request", status: 413, description: "the request body is larger than {detail} bytes" },
  grant_type_missing: { error: "invalid_request", description: "grant_type is required" },
  grant_type_unsupported: { error: "unsupported_grant_type", description: "grant_type must be client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer or urn:ietf:params:oauth:grant-type:token-exchange" },
  grant_not_registered: { error: "unauthorized_client", description: "this client is not registered for the client_credentials grant" },
  scope_malformed: { error: "invalid_scope", description: "scope is malformed (RFC 6749 section 3.3: space-separated tokens)" },
  scope_not_allowed: { error: "invalid_scope", description: "a requested scope is not among the client's registered scopes" },
  resource_malformed: { error: "invalid_target", description: "resource must be an absolute URI without a fragment" },
  resource_not_allowed: { error: "invalid_target", description: "the requested resource is not one this client may use" },
  token_parameter_missing: { error: "invalid_request", description: "the token parameter is required" },
  unsupported_response_type: { error: "unsupported_response_type", description: "this server issues tokens through client_credentials only (no authorization endpoint flows)" },
} as const;

// SPEC §13: the JWT bearer grant (RFC 7523 §2.1, workload identity) and token exchange (RFC 8693).
/**
 * The JWT bearer grant: every SPEC §9 rule of the `assertion` (a trusted issuer's token), each
 * 400 `invalid_grant` with its own text (RFC 7523 §3.1). oauth/grants/jwt-bearer.ts maps the
 * federated rules' reasons onto these.
 */
export const JWT_BEARER_GRANT_FAILURES = withCode("invalid_grant", {
  jwt_bearer_too_large: "assertion is larger than 8 KiB",
  jwt_bearer_is_jwe: "assertion is encrypted (JWE); a signed JWT (JWS) is required",
  jwt_bearer_not_jws: "assertion is not a compact JWS (three base64url segments with a JSON header)",
  jwt_bearer_alg_none: "assertion is unsecured (alg none)",
  jwt_bearer_issuer_unknown: "assertion: its issuer (iss) is not a trusted issuer",
  jwt_bearer_no_credential: "assertion: no client has a federated credential for this issuer that allows the jwt-bearer grant (credential grants)",
  jwt_bearer_alg_not_allowed: "assertion alg is not one of the trusted issuer's allowed_algs",
  jwt_bearer_crit_unsupported: "assertion has a crit header parameter this server does not understand",
  jwt_bearer_keys_unavailable: "assertion: the trusted issuer's keys could not be fetched",
  jwt_bearer_keys_invalid: "assertion: the trusted issuer published no usable keys",
  jwt_bearer_key_not_found: "no key of the trusted issuer matches the assertion kid and alg",
  jwt_bearer_signature_invalid: "assertion signature verification failed",
  jwt_bearer_payload_invalid: "assertion payload is not a JSON object",
  jwt_bearer_iss_mismatch: "assertion iss differs from the trusted issuer",
  jwt_bearer_exp_missing: "assertion exp is missing or not a number",
  jwt_bearer_expired: "assertion has expired (exp is in the past)",
  jwt_bearer_exp_too_far: "assertion exp is further in the future than the issuer's max_token_lifetime",
  jwt_bearer_iat_invalid: "assertion iat is not a number",
  jwt_bearer_iat_future: "assertion iat is in the future",
  jwt_bearer_exp_before_iat: "assertion exp is not after iat",
  jwt_bearer_lifetime_too_long: "assertion lifetime (exp - iat) exceeds the issuer's max_token_lifetime",
  jwt_bearer_nbf_invalid: "assertion nbf is not a number",
  jwt_bearer_nbf_future: "assertion is not yet valid (nbf is in the future)",
  jwt_bearer_jti_missing: "assertion has no jti, and the trusted issuer's tokens are single use",
  jwt_bearer_jti_too_long: "assertion jti is longer than 256 characters",
  jwt_bearer_aud_mismatch: "assertion aud names neither this server's token endpoint URL nor its issuer identifier (nor the credential's audience)",
  jwt_bearer_sub_mismatch: "assertion sub differs from the credential's subject",
  jwt_bearer_sub_pattern_mismatch: "assertion sub does not match the credential's subject_pattern",
  jwt_bearer_claim_mismatch: "assertion claim differs from the credential's pinned value: {detail}",
  jwt_bearer_no_credential_matched: "no federated credential that allows the jwt-bearer grant matches the assertion (POST /admin/clients/:id/federation/explain shows which rule failed for each)",
  jwt_bearer_several_matched: "the assertion matches federated credentials of several clients; exactly one may match (pin the credentials apart)",
  jwt_bearer_client_mismatch: "the federated credential the assertion matches belongs to another client than the one this request names or authenticates",
  jwt_bearer_jti_replayed: "assertion jti has already been used (this issuer's tokens are single use)",
  jwt_bearer_expiring: "assertion expires now: no access token can be shorter-lived than it",
});

/** The two grants' request shape and permissions, and the token-exchange refusals (RFC 8693 §2.2.2), each with its own text. */
const MORE_GRANTS = {
  jwt_bearer_assertion_missing: { error: "invalid_request", description: "assertion is required with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer" },
  federated_credential_grant_not_allowed: { error: "invalid_client", description: "federated client_assertion: the matching credential allows only the jwt-bearer grant (its grants omit client_assertion)" },
  token_exchange_not_allowed: { error: "unauthorized_client", description: "this client may not exchange tokens (its record has no token_exchange)" },
  token_exchange_actor_token: { error: "invalid_request", description: "actor_token is not supported: the authenticated client is the actor" },
  token_exchange_subject_token_missing: { error: "invalid_request", description: "subject_token and subject_token_type are required with grant_type=urn:ietf:params:oauth:grant-type:token-exchange" },
  token_exchange_subject_token_type: { error: "invalid_request", description: "subject_token_type must be urn:ietf:params:oauth:token-type:access_token or urn:ietf:params:oauth:token-type:jwt" },
  token_exchange_requested_token_type: { error: "invalid_request", description: "requested_token_type: only urn:ietf:params:oauth:token-type:access_token is issued" },
  token_exchange_target_missing: { error: "invalid_request", description: "token exchange needs a target: send resource (or audience)" },
  token_exchange_targets_differ: { error: "invalid_target", description: "resource and audience name different targets; send one" },
  token_exchange_target_not_allowed: { error: "invalid_target", description: "the requested resource/audience is not one of the client's token_exchange resources" },
  token_exchange_scope_wider: { error: "invalid_scope", description: "a requested scope is not in the subject_token's scope: an exchanged token is never wider" },
  token_exchange_subject_invalid: { error: "invalid_request", description: "subject_token is not an access token of this server (signature, typ, issuer or claims)" },
  token_exchange_subject_expired: { error: "invalid_request", description: "subject_token has expired" },
  token_exchange_subject_revoked: { error: "invalid_request", description: "subject_token has been revoked (or a token it was exchanged from has)" },
  token_exchange_subject_foreign: { error: "invalid_request", description: "subject_token aud names none of the client's token_exchange subject_audiences" },
  token_exchange_act_too_deep: { error: "invalid_request", description: "subject_token has been exchanged too often: an act chain deeper than 5 is refused" },
  token_exchange_dpop_proof_required: { error: "invalid_dpop_proof", description: "subject_token is DPoP-bound: send a DPoP proof signed with its key" },
  token_exchange_dpop_key_mismatch: { error: "invalid_dpop_proof", description: "the DPoP proof key differs from the subject_token's cnf.jkt" },
} as const;

/** The sample route `/jwts` (SAMPLE_JWT_ROUTE). */
const SAMPLE_ROUTE = {
  sample_route_off: { error: "not_found", description: "the /jwts route is off (SAMPLE_JWT_ROUTE)" },
  sample_client_id_mismatch: { error: "invalid_request", description: "client_id differs from the client of the HTTP Basic credentials" },
  sample_client_id_missing: { error: "invalid_request", description: "client_id is required" },
  sample_client_unknown: { error: "not_found", description: "no such client" },
  sample_client_disabled: { error: "invalid_request", description: "this client is disabled; its assertions would be refused" },
  sample_client_not_jwt: { error: "invalid_request", description: "this client uses {detail}, not a client assertion" },
  sample_client_secret_unreadable: { error: "conflict", description: "this client's secret cannot be opened with the current CLIENT_SECRET_KEY (was the key changed?); rotate the client's secret" },
} as const;

/** The management API (RFC 7591 §3.2.2 for client metadata, SPEC §9 for trusted issuers). */
const ADMIN = {
  admin_token_invalid: { error: "invalid_token", description: "a valid admin bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)" },
  // A bad JSON body: `invalid_client_metadata` for client metadata, `invalid_request` for other admin input (http/admin.ts).
  admin_content_type: { error: "invalid_client_metadata", description: "body: Content-Type must be application/json" },
  admin_json_invalid: { error: "invalid_client_metadata", description: "body: not valid JSON" },
  admin_request_content_type: { error: "invalid_request", description: "body: Content-Type must be application/json" },
  admin_request_json_invalid: { error: "invalid_request", description: "body: not valid JSON" },
  client_metadata_invalid: { error: "invalid_client_metadata", description: "{detail}" },
  client_exists: { error: "conflict", description: "a client with client_id '{detail}' already exists" },
  client_not_found: { error: "not_found", description: "no client with that client_id" },
  client_list_cursor_invalid: { error: "invalid_request", description: "cursor is not a next_cursor this API returned" },
  client_key_exists: { error: "conflict", description: "the client already has a key with kid \"{detail}\"" },
  client_key_not_found: { error: "not_found", description: "the client has no key with that kid" },
  client_key_last: { error: "conflict", description: "this is the client's last key; add its replacement before removing it" },
  client_change_contended: { error: "temporarily_unavailable", description: "too many concurrent changes to this client; retry" },
  trusted_issuer_invalid: { error: "invalid_request", description: "{detail}" },
  trusted_issuer_exists: { error: "conflict", description: "this issuer is already trusted; change it with PATCH" },
  trusted_issuer_not_found: { error: "not_found", description: "no trusted issuer with that issuer identifier" },
  trusted_issuer_list_cursor_invalid: { error: "invalid_request", description: "cursor is not a next_cursor this API returned" },
  trusted_issuer_change_contended: { error: "temporarily_unavailable", description: "too many concurrent changes to this trusted issuer; retry" },
  federated_credential_exists: { error: "conflict", description: "the client already has a federated credential named \"{detail}\"" },
  federated_credential_not_found: { error: "not_found", description: "the client has no federated credential with that name" },
  federated_credential_last: { error: "conflict", description: "this is the client's last way to authenticate; add a key or another credential first" },
} as const;

/** Stores that cannot be reached: 503, fail closed (nothing is issued or changed). */
const UNAVAILABLE = {
  replay_guard_unavailable: { error: "temporarily_unavailable", description: "the replay guard could not be reached; no token was issued, retry with a new assertion" },
  revocation_list_unavailable: { error: "temporarily_unavailable", description: "the revocation list could not be reached; retry shortly" },
  client_store_unavailable: { error: "temporarily_unavailable", description: "the client registry could not be {detail}; retry shortly" },
  trusted_issuer_store_unavailable: { error: "temporarily_unavailable", description: "the trusted issuer store could not be {detail}; retry shortly" },
  // The RegistryWriter Durable Object (stores/registry-writer.ts), for every record kind; the detail names the kind's store.
  registry_writer_unavailable: { error: "temporarily_unavailable", description: "the {detail} could not be updated; retry shortly" },
} as const;

/** Signing keys that rotate themselves (SPEC §12): the key ring and its admin API. */
const KEY_RING = {
  key_ring_unavailable: { error: "temporarily_unavailable", description: "the signing key ring could not be reached; retry shortly" },
  key_ring_no_signing_key: { error: "temporarily_unavailable", description: "the signing key ring has no key that signs at this instant; retry shortly" },
  key_ring_key_unopenable: { error: "temporarily_unavailable", description: "the key ring's signing key cannot be opened with the current CLIENT_SECRET_KEY (was it changed?); rotate the keys: POST /admin/keys/rotate" },
  key_rotation_manual: { error: "conflict", description: "the signing keys come from SIGNING_KEYS (SIGNING_KEY_ROTATION is not auto): rotate them with `ets keys rotate --current FILE` (docs/operating.md)" },
  key_rotation_body_invalid: { error: "invalid_request", description: "body must be empty or the JSON object {\"remove_previous\": true | false}" },
} as const;

/** The app's own failures (app.ts). */
const SERVER = {
  route_not_found: { error: "not_found", description: "no such endpoint" },
  config_error: { error: "temporarily_unavailable", description: "server misconfigured: {detail}" },
  unexpected_error: { error: "server_error", description: "unexpected server error" },
} as const;

/** Per-client quotas and usage (SPEC §11, issue 20). */
const QUOTAS = {
  quota_exceeded: { error: "too_many_requests", description: "the client's token_quota is used up: {detail}; retry after the window ends (Retry-After) with a new client assertion" },
  quota_counter_unavailable: { error: "temporarily_unavailable", description: "the client's quota counter could not be reached; no token was issued, retry with a new assertion" },
  usage_unavailable: { error: "temporarily_unavailable", description: "the client's usage counts could not be read; retry shortly" },
} as const;

// issue 18: the trust edges (SPEC §9): no self-trust, no access token as a federated assertion,
// explain on a disabled client, and trusted-issuer changes that would weaken existing credentials.
export const TRUST_EDGE_FAILURES = withCode("invalid_client", {
  federated_access_token_typ: "federated client_assertion is typed as an access token (typ at+jwt); an access token is never a client assertion",
  federated_issuer_self: "federated client_assertion iss is this server's own issuer; this server never trusts itself as a federated issuer",
  federated_client_disabled: "the client is disabled: no federated credential of it can authenticate",
});
const TRUST_EDGE_GRANT_FAILURES = withCode("invalid_grant", {
  jwt_bearer_access_token_typ: "assertion is typed as an access token (typ at+jwt); an access token is never a jwt-bearer assertion",
  jwt_bearer_issuer_self: "assertion iss is this server's own issuer; this server never trusts itself as a federated issuer",
});
const TRUST_EDGE_ADMIN = {
  trusted_issuer_change_unsafe_credentials: { error: "conflict", description: "the change would make federated credentials that name this issuer admit more than meant; change or remove them first: {detail}" },
} as const;

/** The one catalogue: reason → `error` code, optional status, public description. */
export const REASONS = {
  ...MALFORMED_CLIENT_AUTH,
  ...CLIENT_AUTH_FAILURES,
  ...INVALID_DPOP_PROOF,
  ...DPOP_NONCE_NEEDED,
  ...TOKEN_REQUESTS,
  ...JWT_BEARER_GRANT_FAILURES,
  ...MORE_GRANTS,
  ...SAMPLE_ROUTE,
  ...ADMIN,
  ...UNAVAILABLE,
  ...KEY_RING,
  ...SERVER,
  ...QUOTAS,
  ...TRUST_EDGE_FAILURES,
  ...TRUST_EDGE_GRANT_FAILURES,
  ...TRUST_EDGE_ADMIN,
} as const satisfies Record<string, Entry>;

export type Reason = keyof typeof REASONS;
export type MalformedClientAuthReason = keyof typeof MALFORMED_CLIENT_AUTH;
export type ClientAuthFailureReason = keyof typeof CLIENT_AUTH_FAILURES | keyof typeof TRUST_EDGE_FAILURES;
export type InvalidDpopProofReason = keyof typeof INVALID_DPOP_PROOF;
export type DpopNonceReason = keyof typeof DPOP_NONCE_NEEDED;
export type JwtBearerGrantReason = keyof typeof JWT_BEARER_GRANT_FAILURES;

/** The placeholder a description with a dynamic detail holds. */
export const DETAIL = "{detail}";
