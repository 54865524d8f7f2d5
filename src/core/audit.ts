/**
 * The audit trail's schema (SPEC §11): one JSON line per decision of the token, introspection and
 * revocation endpoints. The schema is stable (README "Audit trail" documents every field); a field
 * is left out when it does not apply, never set to null.
 *
 * Never a credential: no secret, assertion, token or signature is ever a field, and the one field
 * a caller chooses freely (`client_id` as named in the request) is cut to MAX_NAMED_CLIENT_ID.
 *
 * An endpoint collects what it learns in a `DecisionTrace` while it decides (the route creates it,
 * the OAuth steps fill it in); the one decision point — the route's success, or the app's error
 * handler — turns it into an `AuditRecord` with `auditRecord()` and writes it
 * (stores/audit-trail.ts).
 */
import type { QuotaOutcome } from "./quota.js";

export type AuditKind = "token_issued" | "token_refused" | "introspected" | "revoked";
export type AuditEndpoint = "token" | "introspection" | "revocation";

/** `quota` of a quota'd client's line: the counter's outcome, or `not_reached` when refused before it. */
export type AuditQuota = QuotaOutcome | "not_reached";

/** Longest `client_id` a line carries as the request named it (registered ids are at most 128). */
export const MAX_NAMED_CLIENT_ID = 256;

/** What an endpoint learned while deciding; filled in step by step, read once at the end. */
export interface DecisionTrace {
  readonly endpoint: AuditEndpoint;
  grant_type?: string;
  /** The client the request named (unverified) until authentication succeeds, then the client's own id. */
  client_id?: string;
  /** The presented method until the client is known, then its registered one. */
  auth_method?: string;
  /** The authenticated client has a quota (so the line carries `quota`). */
  quota?: AuditQuota;
  federated?: { readonly issuer: string; readonly subject: string | undefined; readonly credential: string };
  issued?: { readonly token_jti: string; readonly exp: number; readonly scope: string | undefined; readonly aud: string };
  /** Token exchange (SPEC §13): the issued token's `sub` (the subject token's) and the subject token's jti. */
  token_sub?: string;
  subject_token_jti?: string;
  /** Introspection: whether the token was reported active. */
  active?: boolean;
}

/**
 * The client is known (authenticated, or matched by a grant): the trace names it and how, and at
 * the token endpoint a quota'd client's line says `quota` even when refused before the counter.
 */
export function traceClient(trace: DecisionTrace | undefined, client: { readonly client_id: string; readonly token_quota?: unknown }, authMethod: string): void {
  if (trace === undefined) return;
  trace.client_id = client.client_id;
  trace.auth_method = authMethod;
  if (trace.endpoint === "token" && client.token_quota !== undefined && trace.quota === undefined) trace.quota = "not_reached";
}

/** One line of the audit trail. */
export interface AuditRecord {
  readonly audit: AuditKind;
  readonly at: string;
  readonly status: number;
  readonly client_id?: string;
  readonly grant_type?: string;
  readonly auth_method?: string;
  /** The catalogue reason of a refusal (core/error-catalogue.ts). */
  readonly reason?: string;
  readonly token_jti?: string;
  readonly exp?: number;
  readonly scope?: string;
  readonly aud?: string;
  readonly quota?: AuditQuota;
  readonly issuer?: string;
  readonly subject?: string;
  readonly credential?: string;
  readonly token_sub?: string;
  readonly subject_token_jti?: string;
  readonly active?: boolean;
}

const KIND: Record<AuditEndpoint, { ok: AuditKind; refused: AuditKind }> = {
  token: { ok: "token_issued", refused: "token_refused" },
  introspection: { ok: "introspected", refused: "introspected" },
  revocation: { ok: "revoked", refused: "revoked" },
};

/**
 * The line for `trace`'s decision: `status` 200, or the refusal's status and catalogue reason.
 * @param now seconds since the epoch (the line's `at`).
 */
export function auditRecord(trace: DecisionTrace, outcome: { readonly status: number; readonly reason?: string }, now: number): AuditRecord {
  const refused = outcome.status >= 300;
  const record: Record<string, unknown> = { audit: refused ? KIND[trace.endpoint].refused : KIND[trace.endpoint].ok, at: new Date(now * 1000).toISOString(), status: outcome.status };
  if (trace.client_id !== undefined) record.client_id = trace.client_id.slice(0, MAX_NAMED_CLIENT_ID);
  if (trace.grant_type !== undefined) record.grant_type = trace.grant_type.slice(0, MAX_NAMED_CLIENT_ID);
  if (trace.auth_method !== undefined) record.auth_method = trace.auth_method;
  if (refused && outcome.reason !== undefined) record.reason = outcome.reason;
  if (!refused && trace.issued !== undefined) {
    record.token_jti = trace.issued.token_jti;
    record.exp = trace.issued.exp;
    if (trace.issued.scope !== undefined) record.scope = trace.issued.scope;
    record.aud = trace.issued.aud;
  }
  if (trace.quota !== undefined) record.quota = trace.quota;
  if (trace.federated !== undefined) {
    record.issuer = trace.federated.issuer;
    if (trace.federated.subject !== undefined) record.subject = trace.federated.subject;
    record.credential = trace.federated.credential;
  }
  if (trace.token_sub !== undefined) record.token_sub = trace.token_sub;
  if (trace.subject_token_jti !== undefined) record.subject_token_jti = trace.subject_token_jti;
  if (trace.active !== undefined) record.active = trace.active;
  return record as unknown as AuditRecord;
}
