/**
 * The apply step of every registration change (SPEC §6): the one place a change reaches storage.
 * The change is a pure mutation of the current record (client-mutations.ts, key-mutations.ts, …);
 * it is committed through the record's writer of record (stores/registry-writer.ts) as a
 * compare-and-set and recomputed on the newer record whenever another change came first, so every
 * acknowledged change is in the final record.
 */
import type { TrustedIssuerRecord } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord, DeletedClient } from "../../core/client-record.js";
import type { ClientWrites, RecordWrites } from "../../stores/registry-writer.js";

/** Compare-and-set rounds before giving up with 503 (each round another change won). */
export const MAX_CHANGE_ATTEMPTS = 32;

/** Longest client_id looked up through the admin API (longer ones cannot exist). */
const MAX_CLIENT_ID_LENGTH = 256;

/**
 * The next record given the current one (null: absent; `deleted`: what a deletion of a record
 * with this id left, if any), or null to delete.
 * @throws OAuthError when the change does not apply (not found, conflict, invalid metadata).
 */
export type Mutation<T, Tombstone = never> = (current: T | null, deleted: Tombstone | undefined) => T | null;

export interface AppliedChange<T = ClientRecord> {
  readonly before: T | null;
  readonly after: T | null;
  /** The record's version in the writer after this change. */
  readonly version: number;
  /** Names of the fields whose value changed (values are not reported: some are secret). */
  readonly changed: readonly string[];
}

/**
 * Apply `mutate` to the client's current record, retrying on concurrent changes.
 * @throws OAuthError from `mutate`, or 503 when the writer is unreachable or too contended.
 */
export async function applyClientChange(writer: ClientWrites, clientId: string, mutate: Mutation<ClientRecord, DeletedClient>): Promise<AppliedChange> {
  if (clientId.length > MAX_CLIENT_ID_LENGTH) throw new OAuthError("client_not_found");
  return applyChange(writer, clientId, mutate, "client_change_contended");
}

/** Apply `mutate` to the trusted issuer's current record (SPEC §9), retrying on concurrent changes. */
export async function applyTrustedIssuerChange(writer: RecordWrites<TrustedIssuerRecord>, issuer: string, mutate: Mutation<TrustedIssuerRecord>): Promise<AppliedChange<TrustedIssuerRecord>> {
  return applyChange(writer, issuer, mutate, "trusted_issuer_change_contended");
}

/**
 * Apply `mutate` to the current record `id` of any kind written through the writer of record,
 * retrying on concurrent changes.
 * @throws OAuthError from `mutate`, or `contended` (503) when too many changes came first.
 */
async function applyChange<T extends object, Tombstone>(
  writer: RecordWrites<T, Tombstone>,
  id: string,
  mutate: Mutation<T, Tombstone>,
  contended: "client_change_contended" | "trusted_issuer_change_contended",
): Promise<AppliedChange<T>> {
  let current = await writer.read(id);
  for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
    const next = mutate(current.record, current.tombstone);
    const outcome = await writer.commit(id, current.version, next);
    if (outcome.ok) return { before: current.record, after: next, version: outcome.version, changed: changedFields(current.record, next) };
    current = outcome.current;
  }
  throw new OAuthError(contended);
}

/** The current record as the writer of record knows it (read-your-writes), or null. */
export async function readClient(writer: ClientWrites, clientId: string): Promise<ClientRecord | null> {
  if (clientId.length > MAX_CLIENT_ID_LENGTH) return null;
  return (await writer.read(clientId)).record;
}

function changedFields(before: object | null, after: object | null): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  names.delete("updated_at");
  return [...names].filter((name) => JSON.stringify(a[name]) !== JSON.stringify(b[name])).sort();
}
