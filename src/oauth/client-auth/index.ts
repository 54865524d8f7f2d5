/**
 * authenticateClient(): client authentication for the token, introspection and revocation
 * endpoints (SPEC §3), in node-oidc-provider's fixed order: extract the presented mechanism
 * (refuse two) → look the client up → require its registered method (no downgrade) → verify →
 * consume the assertion's jti last, through `commit()`, once the endpoint's own checks passed.
 */
import type { AudienceMode } from "../../core/client-record.js";
import type { FormParams } from "../../core/form-params.js";
import { OAuthError } from "../../core/errors.js";
import type { ClientRegistry } from "../../stores/clients.js";
import type { ClientRecord } from "../../core/client-record.js";
import type { JtiRegistry } from "../../stores/replay-guard.js";
import { clientReplayScope, issuerReplayScope } from "../../stores/replay-topology.js";
import type { SecretBox } from "../../stores/secret-box.js";
import { parseClientAssertion, verifyClientAssertion, type VerifiedAssertion } from "./assertion.js";
import { clientAuthFailed } from "./failures.js";
import type { ClientKeySource } from "../../core/key-sources.js";
import { extractPresentedCredentials, type PresentedCredentials } from "./presented.js";
import { secretsEqual } from "./secret.js";
import { federatedJtiScope } from "../../core/federation.js";
import { verifyFederatedAssertion, type FederationDependencies } from "../federation/federated-assertion.js";

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
   * request has passed and before anything is issued.
   * @throws OAuthError invalid_client on replay, 503 temporarily_unavailable if the guard is down.
   */
  commit(): Promise<void>;
  /** A federated client (SPEC §9): who the workload was, for the audit line. */
  readonly federated?: { readonly issuer: string; readonly subject: string | undefined; readonly credential: string };
  /** Seconds since the epoch after which nothing issued on this authentication may live (the external token's exp). */
  readonly notAfter?: number;
}

/** Whether the request tried HTTP Basic (its 401 then carries WWW-Authenticate). */
export function triedBasicAuth(authorization: string | null): boolean {
  return authorization !== null && /^basic(\s|$)/i.test(authorization.trim());
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
): Promise<AuthenticatedClient> {
  const presented = extractPresentedCredentials(form, authorization);
  if (presented.kind === "client_assertion") return authenticateWithAssertion(presented, deps, settings);

  const client = await findActiveClient(deps, presented.clientId);
  if (client.token_endpoint_auth_method !== presented.kind) throw clientAuthFailed("auth_method_not_registered");
  if (presented.kind === "client_secret_basic" && form.has("client_id") && form.get("client_id") !== client.client_id) {
    throw clientAuthFailed("basic_client_id_mismatch");
  }
  if (!(await clientSecretMatches(client, presented.secret, deps, settings.now))) throw clientAuthFailed("secret_mismatch");
  return { client, method: client.token_endpoint_auth_method, commit: async () => {} };
}

/**
 * Whether `secret` is a live secret of `client`, compared in constant time with every live secret
 * (no early exit): during a rotation's overlap, old and new both work. Also serves GET /jwts
 * (SPEC §7: a caller who proves the client's secret may have its sample signed).
 * @throws OAuthError invalid_client when the client has no readable current secret.
 */
export async function clientSecretMatches(client: ClientRecord, secret: string, deps: Pick<ClientAuthDependencies, "secretBox">, now: number): Promise<boolean> {
  let matched = false;
  for (const expected of await openSecrets(client, deps, now)) {
    if (await secretsEqual(secret, expected)) matched = true;
  }
  return matched;
}

async function authenticateWithAssertion(
  presented: Extract<PresentedCredentials, { kind: "client_assertion" }>,
  deps: ClientAuthDependencies,
  settings: ClientAuthSettings,
): Promise<AuthenticatedClient> {
  const parsed = parseClientAssertion(presented.assertion);
  // RFC 7523 §3: the client is named by client_id, else by the (not yet verified) sub/iss.
  const claimedId = presented.clientId ?? stringClaim(parsed.unverifiedClaims?.sub) ?? stringClaim(parsed.unverifiedClaims?.iss);
  if (claimedId === undefined) throw clientAuthFailed("client_id_undeterminable");
  // SPEC §3 rule 6: a client_id parameter must name the assertion's client. The lookup uses it, so
  // compare it with the claims here (this can only refuse; the claims are checked again once verified).
  const named = [parsed.unverifiedClaims?.iss, parsed.unverifiedClaims?.sub].filter((v) => typeof v === "string");
  if (presented.clientId !== undefined && named.length > 0 && !named.includes(presented.clientId)) {
    // SPEC §9: not the client's own assertion, but perhaps a trusted issuer's token for one of its
    // federated credentials. Any other client (unknown, disabled, no credentials) fails as before.
    const client = presented.clientId.length <= 256 ? await deps.clients.get(presented.clientId) : null;
    if (client !== null && !client.disabled && (client.federated_credentials?.length ?? 0) > 0) {
      return authenticateFederated(parsed, client, presented.spiffe === true, deps, settings);
    }
    throw clientAuthFailed("assertion_client_id_mismatch");
  }
  // The jwt-spiffe assertion type is for federated JWT-SVIDs only.
  if (presented.spiffe === true) throw clientAuthFailed("federated_spiffe_type_mismatch");

  const client = await findActiveClient(deps, claimedId);
  const method = client.token_endpoint_auth_method;
  if (method !== "private_key_jwt" && method !== "client_secret_jwt") throw clientAuthFailed("auth_method_not_registered");

  const audienceMode = client.audience_mode ?? settings.audienceMode;
  const acceptedAudiences =
    audienceMode === "strict" ? [settings.issuer] : [settings.issuer, settings.endpointUrl, ...(settings.compatAudiences ?? [])];
  const context = {
    now: settings.now,
    clockSkewSeconds: settings.clockSkewSeconds,
    maxLifetimeSeconds: settings.maxLifetimeSeconds,
    acceptedAudiences,
    formClientId: presented.clientId,
    audienceMode,
  };
  // client_secret_jwt: the assertion's HMAC key is the secret. During a rotation's overlap, a
  // signature that fails under the new secret is tried under the previous one; any other failure
  // is final (the claims do not depend on the key).
  const secrets = method === "client_secret_jwt" ? await openSecrets(client, deps, settings.now) : [undefined];
  let verified: VerifiedAssertion | undefined;
  for (const [i, secret] of secrets.entries()) {
    try {
      verified = await verifyClientAssertion(parsed, client, secret, deps.keySource, context);
      break;
    } catch (err) {
      const another = i < secrets.length - 1;
      if (!(another && err instanceof OAuthError && err.reason === "assertion_signature_invalid")) throw err;
    }
  }
  if (verified === undefined) throw clientAuthFailed("assertion_signature_invalid");

  let committed = false;
  return {
    client,
    method,
    async commit() {
      if (committed) return;
      committed = true;
      // SPEC §3 rule 10: remember (client_id, jti) until exp + skew, then it is expired anyway,
      // in the client's own replay-guard objects (SPEC §10).
      const scope = clientReplayScope(client, settings.now);
      const firstUse = await deps.jtiRegistry.consumeOnce(scope, client.client_id, verified.jti, verified.exp + settings.clockSkewSeconds);
      if (!firstUse) throw clientAuthFailed("assertion_replayed");
    },
  };
}

/**
 * SPEC §9: the assertion is a trusted issuer's token for one of the client's federated credentials.
 * Its jti, for a single_use issuer, is consumed by commit() under the issuer's scope: one token is
 * single use across every client that trusts that issuer.
 */
async function authenticateFederated(
  parsed: ReturnType<typeof parseClientAssertion>,
  client: ClientRecord,
  spiffeAssertionType: boolean,
  deps: ClientAuthDependencies,
  settings: ClientAuthSettings,
): Promise<AuthenticatedClient> {
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
    async commit() {
      if (committed || token.jti === undefined) return;
      committed = true;
      // SPEC §9: single use per issuer, across every client that trusts it, in the issuer's objects.
      const firstUse = await deps.jtiRegistry.consumeOnce(issuerReplayScope(issuer.issuer), federatedJtiScope(issuer.issuer), token.jti, token.exp + settings.clockSkewSeconds);
      if (!firstUse) throw clientAuthFailed("federated_jti_replayed");
    },
  };
}

/** The client if it exists and is enabled; unknown and disabled fail identically (SPEC §3). */
async function findActiveClient(deps: ClientAuthDependencies, clientId: string): Promise<ClientRecord> {
  const client = clientId.length <= 256 ? await deps.clients.get(clientId) : null;
  if (client === null || client.disabled) throw clientAuthFailed("unknown_or_disabled_client");
  return client;
}

/**
 * The secrets that authenticate `client` at `now`: its current secret, then, during the overlap
 * after a rotation, the previous one.
 * @throws OAuthError invalid_client when the client has no readable current secret.
 */
async function openSecrets(client: ClientRecord, deps: Pick<ClientAuthDependencies, "secretBox">, now: number): Promise<string[]> {
  if (client.client_secret_sealed === undefined) throw clientAuthFailed("secret_mismatch");
  const box = await deps.secretBox();
  const current = await openSealed(box, client.client_id, client.client_secret_sealed);
  if (current === undefined) throw clientAuthFailed("secret_mismatch");
  const previousLive = client.client_secret_previous_sealed !== undefined && (client.client_secret_previous_expires_at ?? 0) > now;
  const previous = previousLive ? await openSealed(box, client.client_id, client.client_secret_previous_sealed!) : undefined;
  return previous === undefined ? [current] : [current, previous];
}

/** A sealed secret in plain text, or undefined when it was sealed under another CLIENT_SECRET_KEY. */
async function openSealed(box: SecretBox, clientId: string, sealed: string): Promise<string | undefined> {
  try {
    return await box.open(clientId, sealed);
  } catch (cause) {
    if (cause instanceof Error && cause.name === "ConfigError") throw cause;
    // A secret sealed under another CLIENT_SECRET_KEY cannot authenticate anyone.
    console.error(JSON.stringify({ event: "client_secret_unreadable", client_id: clientId }));
    return undefined;
  }
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
