/**
 * Adding and removing one federated credential of a client (SPEC §9), like client keys
 * (client-key-management.ts): through the client's writer of record, names unique per client, and
 * never leaving a private_key_jwt client with no way at all to authenticate.
 */
import type { FederatedCredential } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import { changeClient } from "../client-changes.js";
import { checkKeyMaterial } from "../client-metadata.js";
import { clientInformation, existing, invalidMetadata, parseOrThrow, type ClientChangeResult, type RegistrationDependencies } from "../client-registration.js";
import { checkFederatedCredentials } from "./credential-checks.js";
import { FederatedCredentialSchema, MAX_FEDERATED_CREDENTIALS } from "./credential-schema.js";

/**
 * Add a credential.
 * @throws OAuthError invalid_client_metadata (bad or unsafe credential, untrusted issuer, too many),
 *   conflict (name taken), not_found.
 */
export async function addFederatedCredential(clientId: string, input: unknown, deps: RegistrationDependencies, now: number): Promise<ClientChangeResult> {
  const credential = parseOrThrow(FederatedCredentialSchema, input) as FederatedCredential;
  await checkFederatedCredentials([credential], deps);
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
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
  });
  return { info: clientInformation(change.after!), change };
}

/**
 * Remove the credential called `name`.
 * @throws OAuthError not_found (client or name), conflict (the client would have no way left to authenticate).
 */
export async function removeFederatedCredential(clientId: string, name: string, deps: Pick<RegistrationDependencies, "clientWriter">, now: number): Promise<ClientChangeResult> {
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
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
  });
  return { info: clientInformation(change.after!), change };
}
