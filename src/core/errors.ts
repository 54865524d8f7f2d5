/**
 * The one error type of the service.
 *
 * Every failure is an `OAuthError` carrying a stable internal `reason`. The reason decides the
 * public RFC 6749 §5.2 `error` code, the HTTP status and a public `error_description` (one distinct
 * text per rule, so an operator can tell "exp too far in the future" from "bad signature" without
 * reading code). Descriptions never contain a secret, an assertion or a token. http/errors.ts
 * renders it.
 */

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
  // Management API (RFC 7591 §3.2.2, RFC 6750 §3.1) and the sample route.
  | "invalid_client_metadata"
  | "invalid_token"
  | "not_found"
  | "conflict";

const STATUS: Record<OAuthErrorCode, number> = {
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
  invalid_client_metadata: 400,
  invalid_token: 401,
  not_found: 404,
  conflict: 409,
};

/**
 * A failure with a public code and description, thrown where the problem is found and turned into
 * a response once, by `oauthErrorResponse`.
 */
export class OAuthError extends Error {
  readonly status: number;
  /** Extra response headers, e.g. RFC 9449 §8 `DPoP-Nonce` on `use_dpop_nonce`. */
  headers: Readonly<Record<string, string>> | undefined;
  constructor(
    readonly error: OAuthErrorCode,
    /** Public `error_description`: names the rule that failed, never secret material. */
    readonly description: string,
    /** Stable machine-readable reason for logs and tests (e.g. `assertion_expired`). */
    readonly reason: string = error,
    status?: number,
  ) {
    super(`${reason}: ${description}`);
    this.name = "OAuthError";
    this.status = status ?? STATUS[error];
  }
}
