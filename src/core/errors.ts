/**
 * The one error type of the service.
 *
 * Every failure is an `OAuthError` carrying a stable internal `reason`. The reason decides the
 * public RFC 6749 §5.2 `error` code, the HTTP status and a public `error_description` (one distinct
 * text per rule, so an operator can tell "exp too far in the future" from "bad signature" without
 * reading code). Descriptions never contain a secret, an assertion or a token. http/errors.ts
 * renders it.
 */
import { DETAIL, REASONS, STATUS, type OAuthErrorCode, type Reason } from "./error-catalogue.js";

/** Reasons whose description takes a detail (`{detail}`: a field name, a setting, a kid). */
export type DetailReason = { [R in Reason]: (typeof REASONS)[R]["description"] extends `${string}{detail}${string}` ? R : never }[Reason];

/** The arguments of `new OAuthError`: a reason, and its detail when its description has one. */
export type OAuthErrorArgs = [reason: Exclude<Reason, DetailReason>] | [reason: DetailReason, detail: string];

/**
 * A failure with a public code and description, thrown where the problem is found and turned into
 * a response once, by `oauthErrorResponse` (http/errors.ts). Built from its reason alone: the
 * catalogue (error-catalogue.ts) gives the code, status and text.
 */
export class OAuthError extends Error {
  /** RFC 6749 §5.2 code (or RFC 9449, RFC 7591, RFC 6750 code). */
  readonly error: OAuthErrorCode;
  readonly status: number;
  /** Public `error_description`: names the rule that failed, never secret material. */
  readonly description: string;
  /** Stable machine-readable reason for logs and tests (e.g. `assertion_expired`). */
  readonly reason: Reason;
  /** Extra response headers, e.g. RFC 9449 §8 `DPoP-Nonce` on `use_dpop_nonce`. */
  headers: Readonly<Record<string, string>> | undefined;
  constructor(...[reason, detail]: OAuthErrorArgs) {
    const entry: { error: OAuthErrorCode; description: string; status?: number } = REASONS[reason];
    const description = detail === undefined ? entry.description : entry.description.replace(DETAIL, detail);
    super(`${reason}: ${description}`);
    this.name = "OAuthError";
    this.error = entry.error;
    this.status = entry.status ?? STATUS[entry.error];
    this.description = description;
    this.reason = reason;
  }
}
