/**
 * Token introspection (RFC 7662) as named steps: authenticate the caller like the token endpoint
 * → read `token` → verify it is a live access token of this server → may this caller see it? →
 * is it revoked? → consume the caller's assertion jti → answer.
 *
 * Who may see what: a client sees its own tokens; a client registered with
 * `introspection_allowed: true` (a resource server) sees any token; for anyone else a token that
 * is not theirs is `{"active": false}` (RFC 7662 §2.2), indistinguishable from an unknown one.
 */
import type { ClientRecord } from "../core/client-record.js";
import type { DecisionTrace } from "../core/audit.js";
import type { FormParams } from "../core/form-params.js";
import type { TokenType } from "../core/protocol.js";
import { lineageRevoked, type AccessTokenClaims, type ActorClaim } from "./access-token.js";
import type { ClientAuthSettings } from "./client-auth/index.js";
import { authenticateAndReadToken, type TokenLifecycleDependencies } from "./presented-token.js";

/** RFC 7662 §2.2 response. Inactive tokens get `active` and nothing else (§4). */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      client_id: string;
      scope?: string;
      aud: string | string[];
      iss: string;
      sub: string;
      exp: number;
      iat: number;
      jti: string;
      /** RFC 9449 §7.1 scheme the token must be presented with. */
      token_type: TokenType;
      /** RFC 9449 §6.2: the DPoP key binding. */
      cnf?: { jkt: string };
      /** RFC 8693 §4.1: who acted, for an exchanged token (SPEC §13). */
      act?: ActorClaim;
    };

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * Handle one introspection request.
 * @throws OAuthError invalid_request / invalid_client when the caller does not authenticate
 *   (RFC 7662 §2.3), 503 when the revocation list or replay guard cannot be reached.
 */
export async function handleIntrospectionRequest(
  form: FormParams,
  authorization: string | null,
  deps: TokenLifecycleDependencies,
  settings: ClientAuthSettings,
  trace?: DecisionTrace,
): Promise<IntrospectionResponse> {
  const { authenticated, claims } = await authenticateAndReadToken(form, authorization, deps, settings, trace);
  const visible = claims !== null && (await mayIntrospect(authenticated.client, claims, deps));
  // Fail closed: a token that would be reported active is checked against the revocation list
  // first, and an unreachable list is a 503, never `active: true`. An exchanged token is inactive
  // once any token it derives from is revoked (SPEC §13).
  const active = visible && !(await lineageRevoked(claims, deps.revocations));
  await authenticated.commit();
  if (trace !== undefined) trace.active = active;
  return active ? activeResponse(claims) : INACTIVE;
}

/**
 * The caller's own tokens, or any token for an `introspection_allowed` caller, provided the
 * token's client still exists and is enabled: disabling or deleting a client makes its tokens
 * inactive here at once (within the client cache and KV propagation, README "Consistency").
 */
async function mayIntrospect(caller: ClientRecord, claims: AccessTokenClaims, deps: TokenLifecycleDependencies): Promise<boolean> {
  if (claims.client_id === caller.client_id) return true;
  if (caller.introspection_allowed !== true) return false;
  const owner = await deps.clients.get(claims.client_id);
  return owner !== null && !owner.disabled;
}

function activeResponse(claims: AccessTokenClaims): IntrospectionResponse {
  return {
    active: true,
    client_id: claims.client_id,
    ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
    aud: claims.aud,
    iss: claims.iss,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    token_type: claims.cnf === undefined ? "Bearer" : "DPoP",
    ...(claims.cnf !== undefined ? { cnf: { jkt: claims.cnf.jkt } } : {}),
    ...(claims.act !== undefined ? { act: claims.act } : {}),
  };
}
