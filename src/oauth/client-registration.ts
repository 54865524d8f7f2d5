/**
 * Creating, changing and rotating client registrations (SPEC §6). Validation through the schemas
 * of client-metadata.ts; secrets generated here (≥ 256 bits), sealed before they are stored, and
 * returned once in the RFC 7591 §3.2.1 client information response.
 */
import type { z } from "zod";
import { OAuthError } from "../http/errors.js";
import type { ClientRecord, ClientRegistry } from "../stores/clients.js";
import { generateClientSecret, type SecretBox } from "../stores/secret-box.js";
import type { AssertionAlg } from "./algorithms.js";
import { checkKeyMaterial, CreateClientSchema, UpdateClientSchema } from "./client-metadata.js";

export interface RegistrationDependencies {
  readonly clients: Pick<ClientRegistry, "getFresh" | "put" | "delete">;
  secretBox(): Promise<SecretBox>;
}

/** RFC 7591 §3.2.1 client information response: the record, never the sealed secret. */
export type ClientInformation = Omit<ClientRecord, "client_secret_sealed"> & {
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
};

const usesSecret = (method: ClientRecord["token_endpoint_auth_method"]) => method !== "private_key_jwt";

/** Register a client. @throws OAuthError invalid_client_metadata (400) or conflict (409). */
export async function registerClient(input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientInformation> {
  const data = parseOrThrow(CreateClientSchema, input);
  const keyProblem = checkKeyMaterial(data);
  if (keyProblem) throw invalidMetadata(...keyProblem);
  const clientId = data.client_id ?? crypto.randomUUID();
  if (await deps.clients.getFresh(clientId)) throw new OAuthError("conflict", `a client with client_id "${clientId}" already exists`, "client_exists");

  const secret = usesSecret(data.token_endpoint_auth_method) ? generateClientSecret() : undefined;
  const record: ClientRecord = {
    ...withoutUndefined({ ...data, client_id: clientId }),
    token_endpoint_auth_signing_alg: data.token_endpoint_auth_signing_alg as AssertionAlg | undefined,
    created_at: now,
    updated_at: now,
  } as ClientRecord;
  if (record.token_endpoint_auth_signing_alg === undefined) delete record.token_endpoint_auth_signing_alg;
  if (secret !== undefined) record.client_secret_sealed = await (await deps.secretBox()).seal(clientId, secret);
  await deps.clients.put(record);
  return clientInformation(record, secret);
}

/** Apply a PATCH. @throws OAuthError not_found or invalid_client_metadata. */
export async function updateClient(clientId: string, input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientInformation> {
  const record = await requireClient(clientId, deps);
  const patch = parseOrThrow(UpdateClientSchema, input);
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
  await deps.clients.put(updated);
  return clientInformation(updated);
}

/** Issue a new secret for a secret-based client; the old one stops working at once (per isolate cache). */
export async function rotateClientSecret(clientId: string, deps: RegistrationDependencies, now: number): Promise<ClientInformation> {
  const record = await requireClient(clientId, deps);
  if (!usesSecret(record.token_endpoint_auth_method)) {
    throw invalidMetadata("token_endpoint_auth_method", "private_key_jwt clients have no secret; rotate their keys instead");
  }
  const secret = generateClientSecret();
  const updated: ClientRecord = {
    ...record,
    client_secret_sealed: await (await deps.secretBox()).seal(clientId, secret),
    updated_at: now,
  };
  await deps.clients.put(updated);
  return clientInformation(updated, secret);
}

export async function requireClient(clientId: string, deps: Pick<RegistrationDependencies, "clients">): Promise<ClientRecord> {
  const record = await deps.clients.getFresh(clientId);
  if (record === null) throw new OAuthError("not_found", "no client with that client_id", "client_not_found");
  return record;
}

export function clientInformation(record: ClientRecord, secret?: string): ClientInformation {
  const { client_secret_sealed, ...visible } = record;
  const info: ClientInformation = { ...visible, client_id_issued_at: record.created_at };
  if (secret !== undefined) info.client_secret = secret;
  if (client_secret_sealed !== undefined) info.client_secret_expires_at = 0;
  return info;
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw invalidMetadata(field, issue.message);
}

function invalidMetadata(field: string, problem: string): OAuthError {
  return new OAuthError("invalid_client_metadata", `${field}: ${problem}`, "client_metadata_invalid");
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
