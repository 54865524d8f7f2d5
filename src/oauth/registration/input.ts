/**
 * The parse step of registration changes (SPEC §6): admin JSON → typed, checked input, refused
 * with the field named (invalid-metadata.ts). The checks that need more than the body (a
 * `jwks_uri` this server may fetch, federated credentials that name trusted issuers) run here,
 * before anything is applied; secrets are generated here (≥ 256 bits) and sealed before they are
 * stored, so the mutations (client-mutations.ts) stay pure.
 */
import type { JWK } from "jose";
import { fetchUrlProblem, type AddressPolicy } from "../../core/addresses.js";
import type { FederatedCredential } from "../../core/federation.js";
import { generateClientSecret, type SecretBox } from "../../stores/secret-box.js";
import { checkFederatedCredentials, type CredentialCheckDependencies } from "../federation/credential-checks.js";
import { FederatedCredentialSchema } from "../federation/credential-schema.js";
import type { TokenExchangePolicy } from "../../core/client-record.js";
import { tokenExchangePolicyProblem } from "../grants/token-exchange.js";
import { invalidMetadata, parseOrThrow } from "./invalid-metadata.js";
import {
  AddKeySchema,
  checkKeyMaterial,
  CreateClientSchema,
  RotateSecretSchema,
  UpdateClientSchema,
  usesSecret,
  type CreateClientInput,
  type UpdateClientInput,
} from "./schema.js";

/** What the checks beyond the body read. */
export interface RegistrationChecks extends CredentialCheckDependencies {
  /** Which `jwks_uri`s are acceptable (decided once, in src/local-dev.ts). */
  readonly addressPolicy: AddressPolicy;
}

/** Opens the CLIENT_SECRET_KEY box (stores/secret-box.ts). */
export type SecretBoxSource = () => Promise<SecretBox>;

/** A new client: the parsed input with its client_id, and its secret sealed (secret methods only). */
export type NewClientInput = CreateClientInput & { client_id: string; client_secret_sealed?: string };

/** A secret rotation: the new secret, sealed, and how long the old one keeps working. */
export interface SecretRotationInput {
  readonly sealedSecret: string;
  /** Seconds; 0 ends the old secret at once (a leaked secret). */
  readonly overlapSeconds: number;
}

/**
 * POST /admin/clients. `secret` is the new client's secret in plain text, returned once (RFC 7591 §3.2.1).
 * @throws OAuthError invalid_client_metadata, or 503 when trusted issuers cannot be read.
 */
export async function parseNewClient(body: unknown, checks: RegistrationChecks, secretBox: SecretBoxSource): Promise<{ input: NewClientInput; secret?: string }> {
  const data = parseOrThrow(CreateClientSchema, body);
  refuseBothKeySources(data);
  const keyProblem = checkKeyMaterial(data);
  if (keyProblem) throw invalidMetadata(...keyProblem);
  checkJwksUri(data.jwks_uri, checks);
  checkTokenExchangePolicy(data.token_exchange, checks);
  await checkFederatedCredentials(data.federated_credentials, checks);
  const clientId = data.client_id ?? crypto.randomUUID();
  const input: NewClientInput = { ...data, client_id: clientId };
  if (!usesSecret(data.token_endpoint_auth_method)) return { input };
  const secret = generateClientSecret();
  return { input: { ...input, client_secret_sealed: await (await secretBox()).seal(clientId, secret) }, secret };
}

/** PATCH /admin/clients/:client_id (the merged record is checked by the mutation). @throws OAuthError invalid_client_metadata, 503. */
export async function parseClientPatch(body: unknown, checks: RegistrationChecks): Promise<UpdateClientInput> {
  const patch = parseOrThrow(UpdateClientSchema, body);
  refuseBothKeySources(patch);
  checkJwksUri(patch.jwks_uri, checks);
  checkTokenExchangePolicy(patch.token_exchange, checks);
  await checkFederatedCredentials(patch.federated_credentials ?? undefined, checks);
  return patch;
}

/** POST /admin/clients/:client_id/secret (no body: the defaults). @throws OAuthError invalid_client_metadata. */
export async function parseSecretRotation(body: unknown, clientId: string, secretBox: SecretBoxSource): Promise<{ rotation: SecretRotationInput; secret: string }> {
  const { previous_secret_valid_for: overlapSeconds } = parseOrThrow(RotateSecretSchema, body ?? {});
  const secret = generateClientSecret();
  return { rotation: { sealedSecret: await (await secretBox()).seal(clientId, secret), overlapSeconds }, secret };
}

/** POST /admin/clients/:client_id/keys: a public JWK with a kid. @throws OAuthError invalid_client_metadata. */
export function parseNewKey(body: unknown): JWK & { kid: string } {
  return parseOrThrow(AddKeySchema, body) as JWK & { kid: string };
}

/** POST /admin/clients/:client_id/federated-credentials. @throws OAuthError invalid_client_metadata, 503. */
export async function parseFederatedCredential(body: unknown, checks: CredentialCheckDependencies): Promise<FederatedCredential> {
  const credential = parseOrThrow(FederatedCredentialSchema, body) as FederatedCredential;
  await checkFederatedCredentials([credential], checks);
  return credential;
}

/** SPEC §6: one way to find a client's keys, in a create as in a PATCH (which then replaces the other). */
function refuseBothKeySources(input: { jwks?: unknown; jwks_uri?: unknown }): void {
  if (input.jwks !== undefined && input.jwks_uri !== undefined) throw invalidMetadata("jwks_uri", "jwks and jwks_uri were both given; send one of them");
}

function checkTokenExchangePolicy(policy: TokenExchangePolicy | null | undefined, checks: Pick<RegistrationChecks, "issuer">): void {
  const problem = tokenExchangePolicyProblem(policy, checks.issuer);
  if (problem) throw invalidMetadata(...problem);
}

/** SPEC §6: a `jwks_uri` names an address this server may fetch (core/addresses.js). */
function checkJwksUri(uri: string | undefined, checks: Pick<RegistrationChecks, "addressPolicy">): void {
  const problem = uri === undefined ? undefined : fetchUrlProblem(uri, checks.addressPolicy);
  if (problem) throw invalidMetadata("jwks_uri", problem);
}
