/**
 * Per-client key management for `private_key_jwt` clients with inline `jwks` (SPEC §6): add a
 * public JWK beside the current ones, remove one by `kid`. A client key rotation is: add the new
 * key, let the client switch to it, remove the old key. Both keys verify in between (SPEC §3
 * rule 4 picks by `kid`). The last key cannot be removed, so a client is never left keyless.
 */
import * as z from "../zod.js";
import { OAuthError } from "../core/errors.js";
import type { ClientRecord } from "../core/client-record.js";
import { changeClient } from "./client-changes.js";
import { ClientJwkSchema, keyFitProblem } from "./client-metadata.js";
import { clientInformation, existing, invalidMetadata, parseOrThrow, type ClientChangeResult, type RegistrationDependencies } from "./client-registration.js";

/** Most keys a client may have registered inline (as the jwks schema allows). */
export const MAX_CLIENT_KEYS = 20;

/** A key to add: a public signing JWK with a `kid`, so it can later be removed by `kid`. */
const AddKeySchema = ClientJwkSchema.check(z.refine((jwk) => typeof jwk.kid === "string", { message: "is required to add a key (keys are removed by kid)", path: ["kid"] }));

/**
 * Add a public JWK to the client's `jwks`.
 * @throws OAuthError invalid_client_metadata (bad JWK, wrong client type, too many keys, key does
 *   not fit the registered alg), conflict (kid already registered), not_found.
 */
export async function addClientKey(clientId: string, input: unknown, deps: Pick<RegistrationDependencies, "clientWriter">, now: number): Promise<ClientChangeResult> {
  const jwk = parseOrThrow(AddKeySchema, input);
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
    const record = inlineKeyClient(existing(current));
    const keys = record.jwks!.keys;
    if (keys.some((key) => key.kid === jwk.kid)) throw new OAuthError("client_key_exists", String(jwk.kid));
    if (keys.length >= MAX_CLIENT_KEYS) throw invalidMetadata("jwks", `a client has at most ${MAX_CLIENT_KEYS} keys; remove one first`);
    const problem = keyFitProblem(jwk, record.token_endpoint_auth_signing_alg);
    if (problem) throw invalidMetadata("jwk", problem);
    return { ...record, jwks: { keys: [...keys, jwk] }, updated_at: now };
  });
  return { info: clientInformation(change.after!), change };
}

/**
 * Remove the client's key(s) with `kid`.
 * @throws OAuthError not_found (client or kid), conflict (it is the last key), invalid_client_metadata.
 */
export async function removeClientKey(clientId: string, kid: string, deps: Pick<RegistrationDependencies, "clientWriter">, now: number): Promise<ClientChangeResult> {
  const change = await changeClient(deps.clientWriter, clientId, (current) => {
    const record = inlineKeyClient(existing(current));
    const keys = record.jwks!.keys;
    const remaining = keys.filter((key) => key.kid !== kid);
    if (remaining.length === keys.length) throw new OAuthError("client_key_not_found");
    if (remaining.length === 0) throw new OAuthError("client_key_last");
    return { ...record, jwks: { keys: remaining }, updated_at: now };
  });
  return { info: clientInformation(change.after!), change };
}

function inlineKeyClient(record: ClientRecord): ClientRecord {
  if (record.token_endpoint_auth_method !== "private_key_jwt") {
    throw invalidMetadata("token_endpoint_auth_method", `${record.token_endpoint_auth_method} clients have no keys; rotate their secret instead`);
  }
  if (record.jwks === undefined) throw invalidMetadata("jwks_uri", "this client publishes its keys at its jwks_uri; change them there");
  return record;
}
