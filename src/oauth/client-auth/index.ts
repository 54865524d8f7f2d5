/**
 * authenticateClient(): client authentication for the token, introspection and revocation
 * endpoints (SPEC §3), as one straight line in node-oidc-provider's fixed order:
 *
 *   extract the presented credentials (presented.ts) → find the client → check its registered
 *   method (no downgrade) → find the candidate keys: own keys, remote JWKS, current and previous
 *   secret, one list (keys.ts) → verify the signature once against them (assertion.ts, ../jws.ts)
 *   → check the claims (assertion.ts) → commit: consume the jti last, through `commit()`,
 *   once the endpoint's own checks passed.
 *
 * Before verification the assertion's claims only name the client whose keys are tried; they are
 * trusted (rule 6 and after) once the signature verifies (SPEC §3 rule 5).
 */
import type { AudienceMode } from "../../core/client-record.js";
import { traceClient, type DecisionTrace } from "../../core/audit.js";
import type { CountedUse, UsageCount } from "../../core/quota.js";
import type { FormParams } from "../../core/form-params.js";
import type { ClientRegistry } from "../../stores/clients.js";
import type { ClientRecord } from "../../core/client-record.js";
import type { JtiRegistry } from "../../stores/replay-guard.js";
import { clientReplayScope, issuerReplayScope } from "../../stores/replay-topology.js";
import type { SecretBox } from "../../stores/secret-box.js";
import { federatedJtiScope } from "../../core/federation.js";
import { issuerAudiences } from "../../core/protocol.js";
import { verifyFederatedAssertion, type FederationDependencies } from "../federation/federated-assertion.js";
import { checkAssertionClaims, checkAssertionHeader, nameAssertionClient, parseClientAssertion, verifyAssertionSignature, type ParsedAssertion } from "./assertion.js";
import { clientAuthFailed } from "./failures.js";
import { candidateKeys } from "./keys.js";
import { type ClientKeySource } from "../../core/key-sources.js";
import { extractPresentedCredentials, type PresentedCredentials } from "./presented.js";
import { clientSecretMatches } from "./secret.js";

export { clientSecretMatches } from "./secret.js";
export { triedBasicAuth } from "./presented.js";

export interface ClientAuthDependencies extends FederationDependencies {
  readonly clients: Pick<ClientRegistry, "get">;
  readonly jtiRegistry: JtiRegistry;
  readonly keySource: ClientKeySource;
  secretBox(): Promise<SecretBox>;
}

export interface ClientAuthSettings {
  readonly now: number;
  readonly issuer: string;
  /** The URL of the endpoint that was called, accepted as `aud` in compat mode. */
  readonly endpointUrl: string;
  /**
   * Further `aud` values accepted in compat mode only: at the introspection and revocation
   * endpoints, the token endpoint URL that clients of RFC 7523 §3 put in every assertion.
   */
  readonly compatAudiences?: readonly string[];
  readonly audienceMode: AudienceMode;
  readonly clockSkewSeconds: number;
  readonly maxLifetimeSeconds: number;
}

export interface AuthenticatedClient {
  readonly client: ClientRecord;
  readonly method: ClientRecord["token_endpoint_auth_method"];
  /**
   * Consume the assertion's jti (no-op for secret methods). Call after every other check of the
   * request has passed and before anything is issued. With `usage`, the token is counted in the
   * same step, in the object that records the jti (SPEC §11).
   * @returns the count to undo, or null when nothing was counted (no jti, or no `usage`).
   * @throws OAuthError invalid_client on replay, 503 temporarily_unavailable if the guard is down.
   */
  commit(usage?: UsageCount | null): Promise<CountedUse | null>;
  /** A federated client (SPEC §9): who the workload was, for the audit line. */
  readonly federated?: { readonly issuer: string; readonly subject: string | undefined; readonly credential: string };
  /** Seconds since the epoch after which nothing issued on this authentication may live (the external token's exp). */
  readonly notAfter?: number;
}

/**
 * Authenticate the client of a token-endpoint-style request.
 * @throws OAuthError invalid_request (malformed authentication), invalid_client (failed), or 503.
 */
export async function authenticateClient(
  form: FormParams,
  authorization: string | null,
  deps: ClientAuthDependencies,
  settings: ClientAuthSettings,
  trace?: DecisionTrace,
): Promise<AuthenticatedClient> {
  const presented = extractPresentedCredentials(form, authorization);
  if (presented.kind === "client_assertion") {
    const authenticated = await authenticateWithAssertion(presented, deps, settings, trace);
    traceClient(trace, authenticated.client, authenticated.method);
    if (trace !== undefined && authenticated.federated !== undefined) trace.federated = authenticated.federated;
    return authenticated;
  }

  // SPEC §11 audit: the client the request named and how, before it is known to exist.
  if (trace !== undefined) {
    trace.client_id = presented.clientId;
    trace.auth_method = presented.kind;
  }
  const client = await findActiveClient(deps, presented.clientId);
  if (client.token_endpoint_auth_method !== presented.kind) throw clientAuthFailed("auth_method_not_registered");
  if (presented.kind === "client_secret_basic" && form.has("client_id") && form.get("client_id") !== client.client_id) {
    throw clientAuthFailed("basic_client_id_mismatch");
  }
  if (!(await clientSecretMatches(client, presented.secret, deps, settings.now))) throw clientAuthFailed("secret_mismatch");
  traceClient(trace, client, client.token_endpoint_auth_method);
  return { client, method: client.token_endpoint_auth_method, commit: async () => null };
}

async function authenticateWithAssertion(
  presented: Extract<PresentedCredentials, { kind: "client_assertion" }>,
  deps: ClientAuthDependencies,
  settings: ClientAuthSettings,
  trace: DecisionTrace | undefined,
): Promise<AuthenticatedClient> {
  if (trace !== undefined) {
    trace.client_id = presented.clientId;
    trace.auth_method = "client_assertion";
  }
  // SPEC §3 rule 2, then which client the (unverified) assertion is for.
  const parsed = parseClientAssertion(presented.assertion);
  const named = nameAssertionClient(presented.clientId, parsed.unverifiedClaims);
  if (trace !== undefined) trace.client_id = named.clientId;
  if (named.claimsNameAnother) return authenticateFederated(parsed, named.clientId, presented.spiffe === true, deps, settings);
  // The jwt-spiffe assertion type is for federated JWT-SVIDs only.
  if (presented.spiffe === true) throw clientAuthFailed("federated_spiffe_type_mismatch");

  // Find the client; check its method.
  const client = await findActiveClient(deps, named.clientId);
  const method = client.token_endpoint_auth_method;
  if (trace !== undefined) trace.auth_method = method;
  if (method !== "private_key_jwt" && method !== "client_secret_jwt") throw clientAuthFailed("auth_method_not_registered");

  // Rules 3 and 9 (header), 4 (candidate keys), 5 (signature): then the claims are trusted.
  const audienceMode = client.audience_mode ?? settings.audienceMode;
  const alg = checkAssertionHeader(parsed.header, client, audienceMode);
  const keys = await candidateKeys(client, alg, parsed.header.kid, deps, settings.now);
  const claims = await verifyAssertionSignature(parsed, alg, keys);

  // Rules 6-8 and the shape of rule 10.
  const verified = checkAssertionClaims(claims, client.client_id, {
    now: settings.now,
    clockSkewSeconds: settings.clockSkewSeconds,
    maxLifetimeSeconds: settings.maxLifetimeSeconds,
    acceptedAudiences: audienceMode === "strict" ? issuerAudiences(settings.issuer) : [...issuerAudiences(settings.issuer), settings.endpointUrl, ...(settings.compatAudiences ?? [])],
  });

  let committed = false;
  return {
    client,
    method,
    async commit(usage) {
      if (committed) return null;
      committed = true;
      // SPEC §3 rule 10: remember (client_id, jti) until exp + skew, then it is expired anyway,
      // in the client's own replay-guard objects (SPEC §10); the token's count rides along (§11).
      const scope = clientReplayScope(client, settings.now);
      const firstUse = await deps.jtiRegistry.consumeOnce(scope, client.client_id, verified.jti, verified.exp + settings.clockSkewSeconds, usage ?? undefined);
      if (!firstUse) throw clientAuthFailed("assertion_replayed");
      return usage ? { undo: () => deps.jtiRegistry.uncount(scope, client.client_id, verified.jti, usage) } : null;
    },
  };
}

/**
 * SPEC §9: the client_id parameter names a client the assertion's iss/sub do not. For a client with
 * federated credentials, the assertion may be a trusted issuer's token for one of them; any other
 * client (unknown, disabled, no credentials) fails as the mismatch it is (SPEC §3 rule 6).
 * The jti, for a single_use issuer, is consumed by commit() under the issuer's scope: one token is
 * single use across every client that trusts that issuer.
 */
async function authenticateFederated(
  parsed: ParsedAssertion,
  clientId: string,
  spiffeAssertionType: boolean,
  deps: ClientAuthDependencies,
  settings: ClientAuthSettings,
): Promise<AuthenticatedClient> {
  const client = clientId.length <= 256 ? await deps.clients.get(clientId) : null;
  if (client === null || client.disabled || (client.federated_credentials?.length ?? 0) === 0) throw clientAuthFailed("assertion_client_id_mismatch");
  if (client.token_endpoint_auth_method !== "private_key_jwt") throw clientAuthFailed("auth_method_not_registered");
  const verified = await verifyFederatedAssertion(parsed, client, deps, {
    now: settings.now,
    clockSkewSeconds: settings.clockSkewSeconds,
    issuer: settings.issuer,
    spiffeAssertionType,
  });
  const { issuer, token } = verified;
  let committed = false;
  return {
    client,
    method: client.token_endpoint_auth_method,
    federated: { issuer: issuer.issuer, subject: token.subject, credential: verified.credential.name },
    notAfter: token.exp,
    async commit(usage) {
      if (committed || token.jti === undefined) return null;
      committed = true;
      // SPEC §9: single use per issuer, across every client that trusts it, in the issuer's objects;
      // the token's count rides along (SPEC §11).
      const scope = issuerReplayScope(issuer.issuer);
      const subject = federatedJtiScope(issuer.issuer);
      const jti = token.jti;
      const firstUse = await deps.jtiRegistry.consumeOnce(scope, subject, jti, token.exp + settings.clockSkewSeconds, usage ?? undefined);
      if (!firstUse) throw clientAuthFailed("federated_jti_replayed");
      return usage ? { undo: () => deps.jtiRegistry.uncount(scope, subject, jti, usage) } : null;
    },
  };
}


/** The client if it exists and is enabled; unknown and disabled fail identically (SPEC §3). */
async function findActiveClient(deps: ClientAuthDependencies, clientId: string): Promise<ClientRecord> {
  const client = clientId.length <= 256 ? await deps.clients.get(clientId) : null;
  if (client === null || client.disabled) throw clientAuthFailed("unknown_or_disabled_client");
  return client;
}
