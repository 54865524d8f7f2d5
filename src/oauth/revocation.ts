/**
 * Token revocation (RFC 7009) as named steps: authenticate the caller like the token endpoint →
 * read `token` → verify it is a live access token of this server issued to the caller → consume
 * the caller's assertion jti → record the token's jti in the revocation list until its `exp`.
 *
 * RFC 7009 §2.2: the answer is 200 whether or not anything was revoked. An unknown, invalid or
 * expired token, and a token of another client (which is NOT revoked), all look the same, so the
 * endpoint cannot be used to probe which tokens exist.
 */
import type { DecisionTrace } from "../core/audit.js";
import type { FormParams } from "../core/form-params.js";
import type { ClientAuthSettings } from "./client-auth/index.js";
import { authenticateAndReadToken, type TokenLifecycleDependencies } from "./presented-token.js";

/**
 * Handle one revocation request; resolves when the token, if revocable, is revoked everywhere.
 * @throws OAuthError invalid_request / invalid_client when the caller does not authenticate,
 *   503 `temporarily_unavailable` when the revocation list or the replay guard cannot be reached.
 */
export async function handleRevocationRequest(
  form: FormParams,
  authorization: string | null,
  deps: TokenLifecycleDependencies,
  settings: ClientAuthSettings,
  trace?: DecisionTrace,
): Promise<void> {
  const { authenticated, claims } = await authenticateAndReadToken(form, authorization, deps, settings, trace);
  // RFC 7009 §2.1: only the client the token was issued to may revoke it.
  const revocable = claims !== null && claims.client_id === authenticated.client.client_id;
  await authenticated.commit();
  // Kept until the token's own exp: after that it is rejected as expired anyway.
  if (revocable) await deps.revocations.revoke(claims.jti, claims.exp);
}
