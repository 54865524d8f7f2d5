import { OAuthError } from "../../src/core/errors.js";

/** The OAuthError a call throws, as `error/reason` (e.g. `invalid_client/assertion_expired`), or "ok". */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    if (err instanceof OAuthError) return `${err.error}/${err.reason}`;
    throw err;
  }
}
