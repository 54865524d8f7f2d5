/**
 * Per-client key management for `private_key_jwt` clients with inline `jwks` (SPEC §6), as pure
 * mutations of the client record: add a public JWK beside the current ones, remove one by `kid`.
 * A client key rotation is: add the new key, let the client switch to it, remove the old key. Both
 * keys verify in between (SPEC §3 rule 4 picks by `kid`). The last key cannot be removed, so a
 * client is never left keyless.
 */
import type { JWK } from "jose";
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord } from "../../core/client-record.js";
import { existing } from "./client-mutations.js";
import { invalidMetadata } from "./invalid-metadata.js";
import { keyFitProblem } from "./schema.js";

/** Most keys a client may have registered inline (as the jwks schema allows). */
export const MAX_CLIENT_KEYS = 20;

/**
 * The record with `jwk` added to its `jwks`.
 * @throws OAuthError invalid_client_metadata (wrong client type, too many keys, key does not fit
 *   the registered alg), conflict (kid already registered), not_found.
 */
export function withKeyAdded(current: ClientRecord | null, jwk: JWK & { kid: string }, now: number): ClientRecord {
  const record = inlineKeyClient(existing(current));
  const keys = record.jwks!.keys;
  if (keys.some((key) => key.kid === jwk.kid)) throw new OAuthError("client_key_exists", jwk.kid);
  if (keys.length >= MAX_CLIENT_KEYS) throw invalidMetadata("jwks", `a client has at most ${MAX_CLIENT_KEYS} keys; remove one first`);
  const problem = keyFitProblem(jwk, record.token_endpoint_auth_signing_alg);
  if (problem) throw invalidMetadata("jwk", problem);
  return { ...record, jwks: { keys: [...keys, jwk] }, updated_at: now };
}

/**
 * The record without its key(s) with `kid`.
 * @throws OAuthError not_found (client or kid), conflict (it is the last key), invalid_client_metadata.
 */
export function withKeyRemoved(current: ClientRecord | null, kid: string, now: number): ClientRecord {
  const record = inlineKeyClient(existing(current));
  const keys = record.jwks!.keys;
  const remaining = keys.filter((key) => key.kid !== kid);
  if (remaining.length === keys.length) throw new OAuthError("client_key_not_found");
  if (remaining.length === 0) throw new OAuthError("client_key_last");
  return { ...record, jwks: { keys: remaining }, updated_at: now };
}

function inlineKeyClient(record: ClientRecord): ClientRecord {
  if (record.token_endpoint_auth_method !== "private_key_jwt") {
    throw invalidMetadata("token_endpoint_auth_method", `${record.token_endpoint_auth_method} clients have no keys; rotate their secret instead`);
  }
  if (record.jwks === undefined) throw invalidMetadata("jwks_uri", "this client publishes its keys at its jwks_uri; change them there");
  return record;
}
