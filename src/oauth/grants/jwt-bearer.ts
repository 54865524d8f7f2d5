/**
 * The JWT bearer grant (RFC 7523 §2.1) for workload identities (SPEC §13, MCP SEP-1933): the
 * `assertion` is a trusted issuer's token, checked by every SPEC §9 rule, and the token goes to
 * the one client whose federated credential allows the grant (`grants: ["jwt_bearer"]`) and
 * matches it — across all clients, since the request names none. In order: the assertion parsed →
 * its trusted issuer → signature and issuer rules, once → the clients with a jwt_bearer credential
 * for it (stores/jwt-bearer-index.ts) → each candidate credential's rules (aud per this grant, sub,
 * pinned claims) → exactly one match → a client the request names or authenticates must be its
 * client → that client's scope and resource rules. The credentials are looked for only once the
 * issuer signed the token: a caller who cannot sign one learns nothing of which credentials exist.
 * Nothing is consumed here: `commit()` spends the assertion's jti (SPEC §9 policy, per issuer)
 * with the request's other jtis, last.
 *
 * Every failure is 400 `invalid_grant` naming the rule (RFC 7523 §3.1): the federated rules' own
 * reasons are mapped onto this grant's (GRANT_REASONS), so one rule has one check and two texts.
 */
import type { ClientRecord } from "../../core/client-record.js";
import { JWT_BEARER_GRANT_FAILURES, type ClientAuthFailureReason, type JwtBearerGrantReason } from "../../core/error-catalogue.js";
import { OAuthError } from "../../core/errors.js";
import { credentialAllows, federatedJtiScope, type FederatedCredential, type TrustedIssuerRecord } from "../../core/federation.js";
import type { FormParams } from "../../core/form-params.js";
import { traceClient, type DecisionTrace } from "../../core/audit.js";
import type { ClientLookup } from "../../stores/clients.js";
import type { JwtBearerClients } from "../../stores/jwt-bearer-index.js";
import type { JtiRegistry } from "../../stores/replay-guard.js";
import { issuerReplayScope } from "../../stores/replay-topology.js";
import { parseClientAssertion, type ParsedAssertion } from "../client-auth/assertion.js";
import { issuerAudiences } from "../../core/protocol.js";
import { authenticateClient, type ClientAuthDependencies, type ClientAuthSettings } from "../client-auth/index.js";
import { triedBasicAuth } from "../client-auth/presented.js";
import type { FederatedClaimRules, CheckedFederatedToken } from "../federation/federated-claims.js";
import { checkCredentialClaims } from "../federation/federated-claims.js";
import { credentialAudiences, findTrustedIssuer, selfTrustProblem, verifyIssuerToken, type FederationDependencies } from "../federation/federated-assertion.js";
import { decideAudience, decideScopes } from "./client-credentials.js";
import type { GrantDecision } from "./grant.js";
import { commitInParallel } from "../issuance.js";

export interface JwtBearerDependencies extends FederationDependencies, ClientAuthDependencies {
  readonly clients: Pick<ClientLookup, "get">;
  /** The clients that may hold a jwt_bearer credential of an issuer (a superset). */
  readonly jwtBearerClients: JwtBearerClients;
  readonly jtiRegistry: JtiRegistry;
}

export interface JwtBearerSettings extends ClientAuthSettings {
  /** DEFAULT_AUDIENCE, else the issuer: `aud` of a token requested without `resource`. */
  readonly defaultAudience: string;
}

/** The federated rules' reasons (SPEC §9), as this grant reports them. */
const GRANT_REASONS = {
  assertion_too_large: "jwt_bearer_too_large",
  assertion_is_jwe: "jwt_bearer_is_jwe",
  assertion_not_jws: "jwt_bearer_not_jws",
  assertion_alg_none: "jwt_bearer_alg_none",
  assertion_crit_unsupported: "jwt_bearer_crit_unsupported",
  assertion_payload_invalid: "jwt_bearer_payload_invalid",
  federated_issuer_unknown: "jwt_bearer_issuer_unknown",
  federated_alg_not_allowed: "jwt_bearer_alg_not_allowed",
  federated_keys_unavailable: "jwt_bearer_keys_unavailable",
  federated_keys_invalid: "jwt_bearer_keys_invalid",
  federated_key_not_found: "jwt_bearer_key_not_found",
  federated_signature_invalid: "jwt_bearer_signature_invalid",
  federated_iss_mismatch: "jwt_bearer_iss_mismatch",
  federated_exp_missing: "jwt_bearer_exp_missing",
  federated_expired: "jwt_bearer_expired",
  federated_exp_too_far: "jwt_bearer_exp_too_far",
  federated_iat_invalid: "jwt_bearer_iat_invalid",
  federated_iat_future: "jwt_bearer_iat_future",
  federated_exp_before_iat: "jwt_bearer_exp_before_iat",
  federated_lifetime_too_long: "jwt_bearer_lifetime_too_long",
  federated_nbf_invalid: "jwt_bearer_nbf_invalid",
  federated_nbf_future: "jwt_bearer_nbf_future",
  federated_jti_missing: "jwt_bearer_jti_missing",
  federated_jti_too_long: "jwt_bearer_jti_too_long",
  federated_aud_mismatch: "jwt_bearer_aud_mismatch",
  federated_sub_mismatch: "jwt_bearer_sub_mismatch",
  federated_sub_pattern_mismatch: "jwt_bearer_sub_pattern_mismatch",
} as const satisfies Partial<Record<ClientAuthFailureReason, JwtBearerGrantReason>>;

/**
 * A failure of a shared SPEC §9 rule as this grant's `invalid_grant` (a pinned claim keeps its
 * name); anything else (503, a reason of this grant) unchanged.
 */
export function asGrantFailure(err: unknown): unknown {
  if (!(err instanceof OAuthError)) return err;
  if (err.reason === "federated_claim_mismatch") return new OAuthError("jwt_bearer_claim_mismatch", err.description.slice(err.description.lastIndexOf(": ") + 2));
  const reason = (GRANT_REASONS as Partial<Record<string, Exclude<JwtBearerGrantReason, "jwt_bearer_claim_mismatch">>>)[err.reason];
  return reason === undefined ? err : new OAuthError(reason);
}

/** Whether `reason` is one of this grant's rule failures (a 400 the caller can fix). */
export const isJwtBearerFailure = (reason: string): reason is JwtBearerGrantReason => reason in JWT_BEARER_GRANT_FAILURES;

/**
 * The `aud` values naming this server for the grant: the token endpoint URL and the issuer
 * identifier, each also with one trailing `/`, and the credential's own audience (SPEC §13).
 */
export function jwtBearerAudiences(credential: FederatedCredential, serverIssuer: string, tokenEndpointUrl: string): string[] {
  return [...new Set([...issuerAudiences(serverIssuer), tokenEndpointUrl, `${tokenEndpointUrl}/`, ...credentialAudiences(credential, serverIssuer)])];
}

/** One client's credential that allows the grant for the assertion's issuer, and why it does not match. */
export interface JwtBearerCandidate {
  readonly client: ClientRecord;
  readonly credential: FederatedCredential;
  /** Undefined when it matches. */
  readonly failure?: OAuthError;
}

export interface JwtBearerEvaluation {
  readonly issuer?: TrustedIssuerRecord;
  /** A failure before any credential could be tried (unknown issuer, signature, exp…), as this grant reports it. */
  readonly failure?: OAuthError;
  readonly token?: CheckedFederatedToken;
  readonly candidates: readonly JwtBearerCandidate[];
}

/**
 * Evaluate `parsed` against every enabled client's credentials that allow the grant for its
 * issuer, consuming nothing (the explain endpoint uses it too).
 * @throws OAuthError 503 when a store cannot be read.
 */
export async function evaluateJwtBearerAssertion(
  parsed: ParsedAssertion,
  deps: FederationDependencies & Pick<JwtBearerDependencies, "clients" | "jwtBearerClients">,
  settings: FederatedClaimRules & { readonly issuer: string; readonly endpointUrl: string },
): Promise<JwtBearerEvaluation> {
  // SPEC §9: never an access token, never this server's own issuer (federated-assertion.ts).
  const selfTrust = selfTrustProblem(parsed, settings.issuer);
  if (selfTrust !== undefined) return { failure: new OAuthError(selfTrust === "access_token_typ" ? "jwt_bearer_access_token_typ" : "jwt_bearer_issuer_self"), candidates: [] };
  const issuer = await findTrustedIssuer(parsed, deps);
  if (issuer === null) return { failure: new OAuthError("jwt_bearer_issuer_unknown"), candidates: [] };
  // The issuer's keys and its own rules first: which credentials exist is told only to a token it signed.
  let verified;
  try {
    verified = await verifyIssuerToken(parsed, deps, settings, issuer);
  } catch (err) {
    const failure = asGrantFailure(err);
    if (failure instanceof OAuthError && isJwtBearerFailure(failure.reason)) return { issuer, failure, candidates: [] };
    throw failure;
  }
  const credentialsOf = (client: ClientRecord | null) =>
    client === null || client.disabled ? [] : (client.federated_credentials ?? []).filter((c) => c.issuer === issuer.issuer && credentialAllows(c, "jwt_bearer")).map((credential) => ({ client, credential }));
  const clientIds = await deps.jwtBearerClients.clientsFor(issuer.issuer);
  const possible = (await Promise.all(clientIds.map(async (id) => credentialsOf(await deps.clients.get(id))))).flat();
  if (possible.length === 0) return { issuer, failure: new OAuthError("jwt_bearer_no_credential"), candidates: [] };
  const candidates = possible.map(({ client, credential }): JwtBearerCandidate => {
    try {
      checkCredentialClaims(verified.claims, credential, jwtBearerAudiences(credential, settings.issuer, settings.endpointUrl));
      return { client, credential };
    } catch (err) {
      const failure = asGrantFailure(err);
      if (failure instanceof OAuthError) return { client, credential, failure };
      throw err;
    }
  });
  return { issuer, token: verified.token, candidates };
}

/**
 * SPEC §13: exactly one matching credential, across all clients.
 * @param namedClientId a client the request names (`client_id`) or authenticated: the match must be its.
 * @throws OAuthError invalid_grant: the evaluation's failure; for a single candidate its own rule;
 *   none of several matching; several matching; the match belonging to another client.
 */
export function selectJwtBearerMatch(evaluation: JwtBearerEvaluation, namedClientId?: string): JwtBearerCandidate {
  if (evaluation.failure) throw evaluation.failure;
  const matches = evaluation.candidates.filter((c) => c.failure === undefined);
  if (matches.length > 1) throw new OAuthError("jwt_bearer_several_matched");
  const [match] = matches;
  if (match === undefined) {
    throw evaluation.candidates.length === 1 ? evaluation.candidates[0]!.failure! : new OAuthError("jwt_bearer_no_credential_matched");
  }
  if (namedClientId !== undefined && match.client.client_id !== namedClientId) throw new OAuthError("jwt_bearer_client_mismatch");
  return match;
}

/**
 * The JWT bearer grant's decision for one token request.
 * @throws OAuthError invalid_request (no assertion), invalid_client (a client authentication that
 *   fails), invalid_grant (every assertion rule), invalid_scope, invalid_target, 503.
 */
export async function decideJwtBearer(form: FormParams, authorization: string | null, deps: JwtBearerDependencies, settings: JwtBearerSettings, trace?: DecisionTrace): Promise<GrantDecision> {
  const assertion = form.get("assertion");
  if (assertion === undefined) throw new OAuthError("jwt_bearer_assertion_missing");
  // RFC 7521 §4.1: client authentication is optional; when present it must succeed, and it names the client.
  const presentsClient = triedBasicAuth(authorization) || ["client_assertion", "client_assertion_type", "client_secret"].some((name) => form.has(name));
  const authenticated = presentsClient ? await authenticateClient(form, authorization, deps, settings, trace) : undefined;

  let parsed: ParsedAssertion;
  try {
    parsed = parseClientAssertion(assertion);
  } catch (err) {
    throw asGrantFailure(err);
  }
  const evaluation = await evaluateJwtBearerAssertion(parsed, deps, settings);
  const { client, credential } = selectJwtBearerMatch(evaluation, authenticated?.client.client_id ?? form.get("client_id"));
  traceClient(trace, client, authenticated?.method ?? "jwt_bearer");
  const issuer = evaluation.issuer!;
  const token = evaluation.token!;
  const federated = { issuer: issuer.issuer, subject: token.subject, credential: credential.name };
  // SPEC §11: from here on, a refusal (scope, resource) names the workload too.
  if (trace !== undefined) trace.federated = federated;
  const scopes = decideScopes(form.get("scope"), client);
  const audience = decideAudience(form.get("resource"), client, settings.defaultAudience);

  let committed = false;
  return {
    client,
    authMethod: authenticated?.method ?? "jwt_bearer",
    scopes,
    audience,
    notAfter: Math.min(token.exp, authenticated?.notAfter ?? token.exp),
    async commit(usage, background) {
      if (committed) return null;
      committed = true;
      // SPEC §9: a single_use issuer's jti once per issuer, shared with its client assertions. SPEC
      // §11: the token is counted with the workload token's jti, else with the client assertion's.
      const jti = token.jti;
      const scope = issuerReplayScope(issuer.issuer);
      const subject = federatedJtiScope(issuer.issuer);
      const clientUse = authenticated?.commit(jti === undefined ? usage : null) ?? Promise.resolve(null);
      const tokenUse =
        jti === undefined
          ? Promise.resolve(null)
          : deps.jtiRegistry.consumeOnce(scope, subject, jti, token.exp + settings.clockSkewSeconds, usage ?? undefined).then((firstUse) => {
              if (!firstUse) throw new OAuthError("jwt_bearer_jti_replayed");
              return usage ? { undo: () => deps.jtiRegistry.uncount(scope, subject, jti, usage) } : null;
            });
      return commitInParallel([clientUse, tokenUse], background);
    },
  };
}
