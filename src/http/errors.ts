/**
 * The one place that turns an `OAuthError` (core/errors.ts) into an HTTP response (RFC 6749 §5.2).
 */
import type { OAuthError } from "../core/errors.js";


/** Headers every token, introspection and revocation response carries (RFC 6749 §5.1), plus nosniff. */
export const NO_STORE_HEADERS = { "Cache-Control": "no-store", Pragma: "no-cache", "X-Content-Type-Options": "nosniff" } as const;

export interface ErrorResponseOptions {
  /** The client tried HTTP Basic: a 401 then carries `WWW-Authenticate` (RFC 6749 §5.2). */
  triedBasicAuth?: boolean;
  /** Extra headers, e.g. `DPoP-Nonce`. */
  headers?: Record<string, string>;
}

/** The RFC 6749 §5.2 JSON error response for `err`, always `no-store`. */
export function oauthErrorResponse(err: OAuthError, options: ErrorResponseOptions = {}): Response {
  const headers = new Headers({
    "Content-Type": "application/json;charset=UTF-8",
    ...NO_STORE_HEADERS,
    ...err.headers,
    ...options.headers,
  });
  if (err.error === "invalid_token") {
    headers.set("WWW-Authenticate", 'Bearer realm="edge-token-service-admin", error="invalid_token"');
  } else if (err.status === 401 && options.triedBasicAuth) {
    headers.set("WWW-Authenticate", 'Basic realm="edge-token-service", charset="UTF-8"');
  }
  if (err.status === 503) headers.set("Retry-After", "1");
  const body = JSON.stringify({ error: err.error, error_description: errorDescriptionText(err.description) });
  return new Response(body, { status: err.status, headers });
}

/**
 * RFC 6749 §5.2: `error_description` uses only %x20-21 / %x23-5B / %x5D-7E (RFC 7591 §3.2.2:
 * ASCII). Descriptions may quote a parameter name or a setting's value, so they are mapped into
 * that set here, once for every response (found by test/fuzz/token-form.test.ts).
 */
export function errorDescriptionText(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/\\/g, "/")
    .replace(/§/g, "section ")
    .replace(/…/g, "...")
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?");
}
