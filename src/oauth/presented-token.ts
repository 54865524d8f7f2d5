/**
 * What the introspection (RFC 7662) and revocation (RFC 7009) endpoints share: their
 * dependencies, and the `token` parameter they act on.
 */
import type { DecisionTrace } from "../core/audit.js";
import type { FormParams } from "../core/form-params.js";
import { OAuthError } from "../core/errors.js";
import type { RevokedTokens } from "../stores/revocation-list.js";
import type { SigningKeys } from "../stores/signing-keys.js";
import { verifyAccessToken, type AccessTokenClaims } from "./access-token.js";
import { authenticateClient, type AuthenticatedClient, type ClientAuthDependencies, type ClientAuthSettings } from "./client-auth/index.js";

export interface TokenLifecycleDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
  readonly revocations: RevokedTokens;
}

/**
 * The `token` parameter (RFC 7662 §2.1, RFC 7009 §2.1: REQUIRED). `token_type_hint` is not read:
 * this server has one token type, and both RFCs let a server ignore the hint.
 * @throws OAuthError invalid_request when `token` is missing or empty.
 */
export function requireTokenParameter(form: FormParams): string {
  const token = form.get("token");
  if (token === undefined) throw new OAuthError("token_parameter_missing");
  return token;
}

/**
 * The first steps both endpoints take, in order: authenticate the caller like the token endpoint
 * (its assertion jti is not consumed yet: call `authenticated.commit()`), read `token`, and verify
 * it is a live access token of this server (`claims` null when it is not).
 */
export async function authenticateAndReadToken(
  form: FormParams,
  authorization: string | null,
  deps: TokenLifecycleDependencies,
  settings: ClientAuthSettings,
  trace?: DecisionTrace,
): Promise<{ authenticated: AuthenticatedClient; claims: AccessTokenClaims | null }> {
  const authenticated = await authenticateClient(form, authorization, deps, settings, trace);
  const token = requireTokenParameter(form);
  const claims = await verifyAccessToken(token, await deps.signingKeys(), settings.issuer, settings.now);
  return { authenticated, claims };
}
