/**
 * Token exchange (RFC 8693) for services that call other services (SPEC §13): an MCP server
 * trades its caller's access token for its own, narrower token for an upstream API instead of
 * passing the caller's token on. In order: the client authenticates (any SPEC §3 method) → its
 * record allows exchange (`token_exchange`) → the request's shape (no actor_token, the subject
 * token and its type, the requested type) → the target among the client's `token_exchange.resources`
 * → the subject token: ours and live (signature, typ, issuer, exp), not revoked (nor any token it
 * was exchanged from), issued to this client as a resource (`aud` among `subject_audiences`), its
 * act chain not too deep → the scope, never wider than the subject token's nor the client's.
 *
 * The new token: `sub` the subject token's, `client_id` the exchanging client, `act` that client
 * with the subject token's own `act` nested inside (RFC 8693 §4.1), `exp` never after the subject
 * token's, `exchanged_from` the jtis it derives from (introspection refuses it once one is revoked),
 * and bound to the subject token's DPoP key when that one is (token-request.ts checks the proof).
 */
import type { ClientRecord, TokenExchangePolicy } from "../../core/client-record.js";
import { OAuthError } from "../../core/errors.js";
import type { FormParams } from "../../core/form-params.js";
import type { DecisionTrace } from "../../core/audit.js";
import { ACCESS_TOKEN_TYPE, issuerAudiences, JWT_TOKEN_TYPE } from "../../core/protocol.js";
import type { RevokedTokens } from "../../stores/revocation-list.js";
import type { SigningKeys } from "../../stores/signing-keys.js";
import { actorDepth, MAX_ACT_DEPTH } from "../../core/actor-chain.js";
import { lineageRevoked, readAccessToken, revocationLineage, type AccessTokenClaims, type ActorClaim } from "../access-token.js";
import { authenticateClient, type ClientAuthDependencies, type ClientAuthSettings } from "../client-auth/index.js";
import { checkResourceUri, parseScope } from "./client-credentials.js";
import type { GrantDecision } from "./grant.js";

export interface TokenExchangeDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
  readonly revocations: RevokedTokens;
}

/** The request's parameters, checked for shape (RFC 8693 §2.1). */
export interface ExchangeRequest {
  readonly subjectToken: string;
  /** The `resource` or `audience` the new token is for. */
  readonly target: string;
  readonly scope: string | undefined;
}

/**
 * RFC 8693 §2.1 parameters: no actor_token (the authenticated client is the actor), the subject
 * token with a type this server takes, only access tokens requested, one target.
 * @throws OAuthError invalid_request, invalid_target.
 */
export function readExchangeRequest(form: FormParams): ExchangeRequest {
  if (form.has("actor_token") || form.has("actor_token_type")) throw new OAuthError("token_exchange_actor_token");
  const subjectToken = form.get("subject_token");
  const subjectTokenType = form.get("subject_token_type");
  if (subjectToken === undefined || subjectTokenType === undefined) throw new OAuthError("token_exchange_subject_token_missing");
  // Both name this server's access tokens: an RFC 9068 access token is a JWT.
  if (subjectTokenType !== ACCESS_TOKEN_TYPE && subjectTokenType !== JWT_TOKEN_TYPE) throw new OAuthError("token_exchange_subject_token_type");
  const requested = form.get("requested_token_type");
  if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new OAuthError("token_exchange_requested_token_type");
  const resource = form.get("resource");
  const audience = form.get("audience");
  if (resource !== undefined) checkResourceUri(resource);
  if (resource !== undefined && audience !== undefined && resource !== audience) throw new OAuthError("token_exchange_targets_differ");
  const target = resource ?? audience;
  if (target === undefined) throw new OAuthError("token_exchange_target_missing");
  return { subjectToken, target, scope: form.get("scope") };
}

/**
 * The target must be one of the client's `token_exchange.resources` (RFC 8693 §2.2.2 invalid_target).
 * @throws OAuthError invalid_target.
 */
export function checkExchangeTarget(target: string, policy: TokenExchangePolicy): string {
  if (!policy.resources.includes(target)) throw new OAuthError("token_exchange_target_not_allowed");
  return target;
}

/**
 * The subject token's `aud` must name one of `subject_audiences`: a token issued to this client
 * as a resource, not one it merely came across.
 * @throws OAuthError invalid_request.
 */
export function checkSubjectAudience(aud: string | readonly string[], policy: TokenExchangePolicy): void {
  const values = typeof aud === "string" ? [aud] : aud;
  if (!values.some((value) => policy.subject_audiences.includes(value))) throw new OAuthError("token_exchange_subject_foreign");
}

/**
 * RFC 8693 §4.1: the exchanging client as actor, the subject token's actor nested inside.
 * @throws OAuthError invalid_request when the chain would be deeper than MAX_ACT_DEPTH.
 */
export function nestedActor(clientId: string, subjectAct: ActorClaim | undefined): ActorClaim {
  if ((actorDepth(subjectAct) ?? MAX_ACT_DEPTH) + 1 > MAX_ACT_DEPTH) throw new OAuthError("token_exchange_act_too_deep");
  return subjectAct === undefined ? { sub: clientId } : { sub: clientId, act: subjectAct };
}

/**
 * The new token's scopes: never wider than the subject token's, nor than the client's. Omitted:
 * what both have.
 * @throws OAuthError invalid_scope.
 */
export function decideExchangeScopes(requested: string | undefined, subjectScope: string | undefined, client: ClientRecord): string[] {
  const subject = (subjectScope ?? "").split(" ").filter(Boolean);
  const allowed = client.scope.split(" ").filter(Boolean);
  if (requested === undefined) return subject.filter((scope) => allowed.includes(scope));
  const scopes = parseScope(requested);
  if (scopes.some((scope) => !allowed.includes(scope))) throw new OAuthError("scope_not_allowed");
  if (scopes.some((scope) => !subject.includes(scope))) throw new OAuthError("token_exchange_scope_wider");
  return [...new Set(scopes)];
}

/**
 * Registration rule: `subject_audiences` may not name this server's issuer identifier, which is
 * the `aud` of every token requested without `resource` (SPEC §4): the client could then exchange
 * any client's plain token, not only those issued to it.
 * @returns [field, problem], or undefined.
 */
export function tokenExchangePolicyProblem(policy: TokenExchangePolicy | null | undefined, serverIssuer: string): [string, string] | undefined {
  if (policy === null || policy === undefined) return undefined;
  if (policy.subject_audiences.some((aud) => issuerAudiences(serverIssuer).includes(aud))) {
    return ["token_exchange.subject_audiences", `must not name this server's issuer (${serverIssuer}): tokens requested without resource carry it; name the resources tokens are issued to this client as`];
  }
  return undefined;
}

/**
 * The subject token: ours and live, not revoked (nor any token it derives from).
 * @throws OAuthError invalid_request naming which, 503 when the revocation list is down.
 */
export async function readSubjectToken(token: string, deps: Pick<TokenExchangeDependencies, "signingKeys" | "revocations">, issuer: string, now: number): Promise<AccessTokenClaims> {
  const read = await readAccessToken(token, await deps.signingKeys(), issuer, now);
  if (!read.ok) throw new OAuthError(read.problem === "expired" ? "token_exchange_subject_expired" : "token_exchange_subject_invalid");
  if (await lineageRevoked(read.claims, deps.revocations)) throw new OAuthError("token_exchange_subject_revoked");
  return read.claims;
}

/**
 * The token exchange grant's decision for one token request.
 * @throws OAuthError invalid_client, unauthorized_client, invalid_request, invalid_target,
 *   invalid_scope, 503.
 */
export async function decideTokenExchange(form: FormParams, authorization: string | null, deps: TokenExchangeDependencies, settings: ClientAuthSettings, trace?: DecisionTrace): Promise<GrantDecision> {
  const authenticated = await authenticateClient(form, authorization, deps, settings, trace);
  const { client } = authenticated;
  const policy = client.token_exchange;
  if (policy === undefined) throw new OAuthError("token_exchange_not_allowed");
  const request = readExchangeRequest(form);
  const audience = checkExchangeTarget(request.target, policy);
  const subject = await readSubjectToken(request.subjectToken, deps, settings.issuer, settings.now);
  checkSubjectAudience(subject.aud, policy);
  const act = nestedActor(client.client_id, subject.act);
  const scopes = decideExchangeScopes(request.scope, subject.scope, client);
  return {
    client,
    authMethod: authenticated.method,
    subject: subject.sub,
    scopes,
    audience,
    // Never after the subject token, nor after a federated client's external token (SPEC §9).
    notAfter: Math.min(subject.exp, authenticated.notAfter ?? subject.exp),
    act,
    exchangedFrom: revocationLineage(subject),
    ...(subject.cnf !== undefined ? { requiredJkt: subject.cnf.jkt } : {}),
    commit: (usage) => authenticated.commit(usage),
    issuedTokenType: ACCESS_TOKEN_TYPE,
  };
}
