/**
 * The `client_credentials` grant (RFC 6749 §4.4): which scopes and which audience the token gets
 * (SPEC §4). Pure decisions on the form and the authenticated client.
 */
import type { FormParams } from "../../core/form-params.js";
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord } from "../../core/client-record.js";
import { CLIENT_CREDENTIALS_GRANT } from "../../core/protocol.js";

export interface ClientCredentialsDecision {
  /** Granted scopes (possibly empty). */
  readonly scopes: readonly string[];
  /** The access token's `aud`. */
  readonly audience: string;
}

/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E, separated by single spaces. */
export const SCOPE_TOKEN_CHARS = "[\\x21\\x23-\\x5b\\x5d-\\x7e]";
const SCOPE_TOKEN = new RegExp(`^${SCOPE_TOKEN_CHARS}+$`);

/**
 * Decide scope and audience.
 * @param defaultAudience DEFAULT_AUDIENCE, else the issuer.
 * @throws OAuthError unauthorized_client, invalid_scope or invalid_target.
 */
export function decideClientCredentials(form: FormParams, client: ClientRecord, defaultAudience: string): ClientCredentialsDecision {
  if (!client.grant_types.includes(CLIENT_CREDENTIALS_GRANT)) {
    throw new OAuthError("grant_not_registered");
  }
  return { scopes: decideScopes(form.get("scope"), client), audience: decideAudience(form.get("resource"), client, defaultAudience) };
}

/**
 * SPEC §4 scope: each requested scope among the client's (none requested: all of them).
 * @throws OAuthError invalid_scope.
 */
export function decideScopes(requested: string | undefined, client: ClientRecord): string[] {
  const allowed = client.scope.split(" ").filter(Boolean);
  // SPEC §4: scope omitted → all of the client's registered scopes.
  if (requested === undefined) return allowed;
  const scopes = parseScope(requested);
  const unknown = scopes.find((scope) => !allowed.includes(scope));
  if (unknown !== undefined) {
    throw new OAuthError("scope_not_allowed");
  }
  return [...new Set(scopes)];
}

/**
 * RFC 6749 §3.3: space-separated scope tokens.
 * @throws OAuthError invalid_scope when malformed.
 */
export function parseScope(requested: string): string[] {
  const scopes = requested.split(" ");
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope))) throw new OAuthError("scope_malformed");
  return scopes;
}

/**
 * SPEC §4 audience: the requested RFC 8707 resource if the client may use it, else `defaultAudience`.
 * @throws OAuthError invalid_target.
 */
export function decideAudience(resource: string | undefined, client: ClientRecord, defaultAudience: string): string {
  if (resource === undefined) return defaultAudience;
  checkResourceUri(resource);
  if (!client.resources.includes(resource)) {
    throw new OAuthError("resource_not_allowed");
  }
  return resource;
}

/** RFC 8707 §2: an absolute URI without a fragment. @throws OAuthError invalid_target. */
export function checkResourceUri(resource: string): void {
  if (!URL.canParse(resource) || resource.includes("#")) throw new OAuthError("resource_malformed");
}
