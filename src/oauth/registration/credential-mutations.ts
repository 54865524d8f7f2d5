/**
 * Adding and removing one federated credential of a client (SPEC §9), like client keys
 * (key-mutations.ts), as pure mutations of the client record: names unique per client, and never
 * leaving a private_key_jwt client with no way at all to authenticate. The credential itself is
 * checked against its trusted issuer when parsed (input.ts).
 */
import type { FederatedCredential } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord } from "../../core/client-record.js";
import { MAX_FEDERATED_CREDENTIALS } from "../federation/credential-schema.js";
import { existing } from "./client-mutations.js";
import { invalidMetadata } from "./invalid-metadata.js";
import { checkKeyMaterial } from "./schema.js";

/**
 * The record with `credential` added.
 * @throws OAuthError invalid_client_metadata (not a private_key_jwt client, too many), conflict (name taken), not_found.
 */
export function withCredentialAdded(current: ClientRecord | null, credential: FederatedCredential, now: number): ClientRecord {
  const record = existing(current);
  if (record.token_endpoint_auth_method !== "private_key_jwt") {
    throw invalidMetadata("token_endpoint_auth_method", "federated credentials are for private_key_jwt clients only");
  }
  const credentials = record.federated_credentials ?? [];
  if (credentials.some((c) => c.name === credential.name)) {
    throw new OAuthError("federated_credential_exists", credential.name);
  }
  if (credentials.length >= MAX_FEDERATED_CREDENTIALS) throw invalidMetadata("federated_credentials", `a client has at most ${MAX_FEDERATED_CREDENTIALS}; remove one first`);
  return { ...record, federated_credentials: [...credentials, credential], updated_at: now };
}

/**
 * The record without the credential called `name`.
 * @throws OAuthError not_found (client or name), conflict (the client would have no way left to authenticate).
 */
export function withCredentialRemoved(current: ClientRecord | null, name: string, now: number): ClientRecord {
  const record = existing(current);
  const credentials = record.federated_credentials ?? [];
  const remaining = credentials.filter((c) => c.name !== name);
  if (remaining.length === credentials.length) throw new OAuthError("federated_credential_not_found");
  const { federated_credentials: _old, ...rest } = record;
  const next = remaining.length > 0 ? { ...rest, federated_credentials: remaining, updated_at: now } : { ...rest, updated_at: now };
  if (checkKeyMaterial(next) !== undefined) {
    throw new OAuthError("federated_credential_last");
  }
  return next;
}
