/**
 * Request body limits (Hono's bodyLimit middleware). An oversized body is 413 with an RFC 6749
 * `invalid_request` body (SPEC §2), checked before the body is parsed.
 */
import { bodyLimit } from "hono/body-limit";
import { OAuthError } from "../core/errors.js";

/** Token, introspection and revocation forms: an 8 KiB assertion plus the other parameters. */
export const FORM_BODY_LIMIT_BYTES = 16 * 1024;
/** Admin JSON: room for a JWK Set with several RSA keys. */
export const ADMIN_BODY_LIMIT_BYTES = 64 * 1024;

export function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    // Thrown, not answered here: the app's error handler writes the answer and, at the token,
    // introspection and revocation endpoints, the request's audit line (SPEC §11).
    onError: () => {
      throw new OAuthError("body_too_large", String(maxSize));
    },
  });
}
