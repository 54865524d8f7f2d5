/**
 * Which client authentication mechanism a request presents (RFC 6749 §2.3, RFC 7521 §4.2),
 * before any client is looked up. Exactly one mechanism is allowed (SPEC §3).
 */
import type { FormParams } from "../../core/form-params.js";
import { JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE } from "../../core/protocol.js";
import { clientAuthFailed, malformedClientAuth } from "./failures.js";

export type PresentedCredentials =
  | { kind: "client_secret_basic"; clientId: string; secret: string }
  | { kind: "client_secret_post"; clientId: string; secret: string }
  /** private_key_jwt or client_secret_jwt: which one is decided by the client's registration. */
  | {
      kind: "client_assertion";
      clientId: string | undefined;
      assertion: string;
      /** `…:jwt-spiffe` (draft-ietf-oauth-spiffe-client-auth): a JWT-SVID, federated only (SPEC §9). */
      spiffe?: boolean;
    };

/**
 * Extract the one presented mechanism.
 * @throws OAuthError invalid_client when none is presented (RFC 6749 §5.2), invalid_request when
 *   two or a malformed one are.
 */
export function extractPresentedCredentials(form: FormParams, authorization: string | null): PresentedCredentials {
  const basic = triedBasicAuth(authorization) ? authorization!.trim() : null;
  const assertion = form.get("client_assertion");
  const assertionType = form.get("client_assertion_type");
  const postSecret = form.get("client_secret");

  const presented = [basic !== null, assertion !== undefined || assertionType !== undefined, postSecret !== undefined];
  const count = presented.filter(Boolean).length;
  if (count === 0) throw clientAuthFailed("no_client_authentication");
  if (count > 1) throw malformedClientAuth("multiple_client_authentication");

  if (basic !== null) return { kind: "client_secret_basic", ...parseBasicCredentials(basic) };
  if (postSecret !== undefined) {
    const clientId = form.get("client_id");
    if (clientId === undefined) throw clientAuthFailed("secret_without_client_id");
    return { kind: "client_secret_post", clientId, secret: postSecret };
  }
  if (assertionType === undefined) throw malformedClientAuth("assertion_type_missing");
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE && assertionType !== JWT_SPIFFE_ASSERTION_TYPE) throw malformedClientAuth("assertion_type_invalid");
  if (assertion === undefined) throw malformedClientAuth("assertion_missing");
  if (assertionType === JWT_SPIFFE_ASSERTION_TYPE) return { kind: "client_assertion", clientId: form.get("client_id"), assertion, spiffe: true };
  return { kind: "client_assertion", clientId: form.get("client_id"), assertion };
}

/** Whether the request tried HTTP Basic (its 401 then carries WWW-Authenticate). */
export function triedBasicAuth(authorization: string | null): boolean {
  return authorization !== null && /^basic(\s|$)/i.test(authorization.trim());
}

/**
 * RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
 * @param header the whole `Basic …` Authorization value.
 * @throws OAuthError invalid_request when malformed.
 */
export function parseBasicCredentials(header: string): { clientId: string; secret: string } {
  const encoded = header.slice(5).trim();
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
  } catch {
    throw malformedClientAuth("basic_header_malformed");
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw malformedClientAuth("basic_header_malformed");
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
    if (secret === "") throw new Error("empty secret");
    return { clientId, secret };
  } catch {
    throw malformedClientAuth("basic_header_malformed");
  }
}
