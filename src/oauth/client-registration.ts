/**
 * Creating, changing and rotating client registrations (SPEC §6). Validation through the schemas
 * of client-metadata.ts; secrets generated here (≥ 256 bits), sealed before they are stored, and
 * returned once in the RFC 7591 §3.2.1 client information response. Every write goes through the
 * client's writer of record (client-changes.ts), so concurrent admin changes are never lost.
 */
import type * as z from "../zod.js";
import { OAuthError } from "../core/errors.js";
import type { ClientRecord } from "../core/client-record.js";
import type { ClientWrites } from "../stores/client-writer.js";
import { generateClientSecret, type SecretBox } from "../stores/secret-box.js";
import type { AssertionAlg } from "../core/algorithms.js";
import { changeClient, readClient, type AppliedChange } from "./client-changes.js";
import { checkKeyMaterial, CreateClientSchema, invalidMetadata, jwksUriProblem, RotateSecretSchema, UpdateClientSchema } from "./client-metadata.js";
import { checkFederatedCredentials, type CredentialCheckDependencies } from "./federation/credential-checks.js";
import { MAX_TOPOLOGIES_IN_TRANSITION, replayTopologyChange, topologyTransitionSeconds, type TransitionRules } from "./replay-topology-change.js";

/** Kept here for its importers; defined beside the metadata schemas (client-metadata.ts). */
export { invalidMetadata };

export interface RegistrationDependencies extends CredentialCheckDependencies {
  /** The writer of record: every change and every admin read goes through it. */
  readonly clientWriter: ClientWrites;
  secretBox(): Promise<SecretBox>;
  /** A loopback `jwks_uri` is acceptable (local dev only, decided in src/local-dev.ts). Default false. */
  readonly loopbackUrlsAllowed?: boolean;
  /** What decides how long a left replay-guard topology stays in force (SPEC §10). */
  readonly settings: TransitionRules;
}

/** RFC 7591 §3.2.1 client information response: the record, never a sealed secret. */
export type ClientInformation = Omit<ClientRecord, "client_secret_sealed" | "client_secret_previous_sealed"> & {
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
};

/** A change that was applied: the response body and what the audit log needs. */
export interface ClientChangeResult {
  readonly info: ClientInformation;
  readonly change: AppliedChange;
}

const usesSecret = (method: ClientRecord["token_endpoint_auth_method"]) => method !== "private_key_jwt";

/** Register a client. @throws OAuthError invalid_client_metadata (400) or conflict (409). */
export async function registerClient(input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientChangeResult> {
  const data = parseOrThrow(CreateClientSchema, input);
  refuseBothKeySources(data);
  const keyProblem = checkKeyMaterial(data);
  if (keyProblem) throw invalidMetadata(...keyProblem);
  checkJwksUri(data.jwks_uri, deps);
  await checkFederatedCredentials(data.federated_credentials, deps);
  const clientId = data.client_id ?? crypto.randomUUID();

  const secret = usesSecret(data.token_endpoint_auth_method) ? generateClientSecret() : undefined;
  const record: ClientRecord = {
    ...withoutUndefined({ ...data, client_id: clientId }),
    token_endpoint_auth_signing_alg: data.token_endpoint_auth_signing_alg as AssertionAlg | undefined,
    created_at: now,
    updated_at: now,
  } as ClientRecord;
  if (record.token_endpoint_auth_signing_alg === undefined) delete record.token_endpoint_auth_signing_alg;
  if (secret !== undefined) record.client_secret_sealed = await (await deps.secretBox()).seal(clientId, secret);
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
    if (current !== null) throw new OAuthError("client_exists", clientId);
    return record;
  });
  return { info: clientInformation(record, secret), change };
}

/** Apply a PATCH. @throws OAuthError not_found or invalid_client_metadata. */
export async function updateClient(clientId: string, input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientChangeResult> {
  const patch = parseOrThrow(UpdateClientSchema, input);
  refuseBothKeySources(patch);
  checkJwksUri(patch.jwks_uri, deps);
  await checkFederatedCredentials(patch.federated_credentials ?? undefined, deps);
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
    const record = existing(current);
    const next: Record<string, unknown> = { ...record };
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) delete next[field];
      else next[field] = value;
    }
    // Switching between inline jwks and jwks_uri replaces the other.
    if (patch.jwks !== undefined) delete next.jwks_uri;
    if (patch.jwks_uri !== undefined) delete next.jwks;
    const updated = { ...(next as unknown as ClientRecord), updated_at: now };
    const keyProblem = checkKeyMaterial(updated);
    if (keyProblem) throw invalidMetadata(...keyProblem);
    return withReplayTopologyChange(record, updated, now, deps.settings);
  });
  return { info: clientInformation(change.after!), change };
}

/**
 * Issue a new secret for a secret-based client. The old one keeps authenticating for
 * `previous_secret_valid_for` seconds (default a day, 0 = not at all), so clients can switch
 * without a failed request; an older previous secret is dropped.
 */
export async function rotateClientSecret(clientId: string, input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientChangeResult> {
  const { previous_secret_valid_for: overlapSeconds } = parseOrThrow(RotateSecretSchema, input ?? {});
  const secret = generateClientSecret();
  const sealed = await (await deps.secretBox()).seal(clientId, secret);
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
    const record = existing(current);
    if (!usesSecret(record.token_endpoint_auth_method)) {
      throw invalidMetadata("token_endpoint_auth_method", "private_key_jwt clients have no secret; rotate their keys instead");
    }
    const { client_secret_previous_sealed: _dropped, client_secret_previous_expires_at: _until, ...rest } = record;
    const next: ClientRecord = { ...rest, client_secret_sealed: sealed, updated_at: now };
    if (overlapSeconds > 0 && record.client_secret_sealed !== undefined) {
      next.client_secret_previous_sealed = record.client_secret_sealed;
      next.client_secret_previous_expires_at = now + overlapSeconds;
    }
    return next;
  });
  return { info: clientInformation(change.after!, secret), change };
}

/** Delete a client. @throws OAuthError not_found. */
export async function deleteClient(clientId: string, deps: Pick<RegistrationDependencies, "clientWriter">): Promise<AppliedChange> {
  return changeClient(deps.clientWriter, clientId, (current) => {
    existing(current);
    return null;
  });
}

/** The client as the writer of record knows it. @throws OAuthError not_found. */
export async function requireClient(clientId: string, deps: Pick<RegistrationDependencies, "clientWriter">): Promise<ClientRecord> {
  return existing(await readClient(deps.clientWriter, clientId));
}

/** `current`, or not_found. */
export function existing(current: ClientRecord | null): ClientRecord {
  if (current === null) throw new OAuthError("client_not_found");
  return current;
}

export function clientInformation(record: ClientRecord, secret?: string): ClientInformation {
  const { client_secret_sealed, client_secret_previous_sealed: _previous, ...visible } = record;
  const info: ClientInformation = { ...visible, client_id_issued_at: record.created_at };
  if (secret !== undefined) info.client_secret = secret;
  if (client_secret_sealed !== undefined) info.client_secret_expires_at = 0;
  return info;
}

export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw invalidMetadata(field, issue.message);
}

/** SPEC §10: `next` with the replay-guard topologies it leaves still in force. */
function withReplayTopologyChange(current: ClientRecord, next: ClientRecord, now: number, rules: TransitionRules): ClientRecord {
  const change = replayTopologyChange(current, next, now, topologyTransitionSeconds(rules));
  if (!change.ok) {
    const field = current.replay_guard_shards === next.replay_guard_shards ? "replay_guard_location" : "replay_guard_shards";
    const until = new Date(change.busyUntil * 1000).toISOString();
    throw invalidMetadata(field, `${MAX_TOPOLOGIES_IN_TRANSITION} replay-guard topology changes are still in transition; retry after ${until}`);
  }
  const { replay_guard_previous: _previous, ...rest } = next;
  return change.previous === undefined ? rest : { ...rest, replay_guard_previous: change.previous };
}

/** SPEC §6: one way to find a client's keys, in a create as in a PATCH (which then replaces the other). */
function refuseBothKeySources(input: { jwks?: unknown; jwks_uri?: unknown }): void {
  if (input.jwks !== undefined && input.jwks_uri !== undefined) throw invalidMetadata("jwks_uri", "jwks and jwks_uri were both given; send one of them");
}

function checkJwksUri(uri: string | undefined, deps: Pick<RegistrationDependencies, "loopbackUrlsAllowed">): void {
  const problem = jwksUriProblem(uri, deps.loopbackUrlsAllowed ?? false);
  if (problem) throw invalidMetadata("jwks_uri", problem);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
