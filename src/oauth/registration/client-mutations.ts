/**
 * Client registration changes as pure mutations (SPEC §6): each takes the current record (null:
 * absent), the parsed input (input.ts) and `now`, and returns the next record (null: deleted), or
 * throws the OAuthError the admin API answers. No I/O: secrets are generated and sealed before
 * (input.ts), and the result is stored by the apply step (apply.ts), which reruns the mutation on
 * a newer record when a concurrent change came first.
 */
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord, DeletedClient } from "../../core/client-record.js";
import { inheritedTopologies, MAX_TOPOLOGIES_IN_TRANSITION, replayTopologyChange, topologyTransitionSeconds, type TransitionRules } from "../replay-topology-change.js";
import type { NewClientInput, SecretRotationInput } from "./input.js";
import { invalidMetadata } from "./invalid-metadata.js";
import { checkKeyMaterial, usesSecret, type UpdateClientInput } from "./schema.js";

/**
 * A new client's record; where a client with this client_id was deleted, it inherits the deleted
 * one's replay-guard topologies still in force (SPEC §10).
 * @throws OAuthError conflict when `current` exists.
 */
export function createdClient(current: ClientRecord | null, input: NewClientInput, now: number, rules: TransitionRules, deleted?: DeletedClient): ClientRecord {
  if (current !== null) throw new OAuthError("client_exists", input.client_id);
  const { client_secret_sealed: sealed, ...fields } = input;
  const record = { ...withoutUndefined(fields), created_at: now, updated_at: now } as ClientRecord;
  if (sealed !== undefined) record.client_secret_sealed = sealed;
  const inherited = deleted === undefined ? undefined : inheritedTopologies(deleted, record, now, topologyTransitionSeconds(rules));
  if (inherited !== undefined) record.replay_guard_previous = inherited;
  return record;
}

/**
 * A PATCH merged into the record: `null` clears a field, jwks and jwks_uri replace each other, and
 * the merged record is checked as a whole (key material, SPEC §10 replay-guard topology change).
 * @throws OAuthError not_found, invalid_client_metadata.
 */
export function patchedClient(current: ClientRecord | null, patch: UpdateClientInput, now: number, rules: TransitionRules): ClientRecord {
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
  return withReplayTopologyChange(record, updated, now, rules);
}

/**
 * The record with a new sealed secret. The old one keeps authenticating for `overlapSeconds`
 * (0 = not at all), so clients can switch without a failed request; an older previous secret is
 * dropped.
 * @throws OAuthError not_found, invalid_client_metadata for a private_key_jwt client.
 */
export function withRotatedSecret(current: ClientRecord | null, rotation: SecretRotationInput, now: number): ClientRecord {
  const record = existing(current);
  if (!usesSecret(record.token_endpoint_auth_method)) {
    throw invalidMetadata("token_endpoint_auth_method", "private_key_jwt clients have no secret; rotate their keys instead");
  }
  const { client_secret_previous_sealed: _dropped, client_secret_previous_expires_at: _until, ...rest } = record;
  const next: ClientRecord = { ...rest, client_secret_sealed: rotation.sealedSecret, updated_at: now };
  if (rotation.overlapSeconds > 0 && record.client_secret_sealed !== undefined) {
    next.client_secret_previous_sealed = record.client_secret_sealed;
    next.client_secret_previous_expires_at = now + rotation.overlapSeconds;
  }
  return next;
}

/** Deletion. @throws OAuthError not_found. */
export function deletedClient(current: ClientRecord | null): null {
  existing(current);
  return null;
}

/** `current`, or not_found. */
export function existing(current: ClientRecord | null): ClientRecord {
  if (current === null) throw new OAuthError("client_not_found");
  return current;
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

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
