/**
 * Where audit records go (SPEC §11): one JSON line on stdout per decision (Workers Logs and Logpush
 * take it as it is), and, when an Analytics Engine dataset is bound as `USAGE`, one data point:
 * index `client_id`; blobs audit kind, grant type, reason; doubles 1 (docs/operating.md has the SQL).
 * The record itself is built in core/audit.ts, which guarantees it holds no credential.
 */
import type { AuditRecord } from "../core/audit.js";

export interface AuditTrail {
  write(record: AuditRecord): void;
}

/** The Analytics Engine index of a decision that named no client. */
export const NO_CLIENT_INDEX = "-";
/** Analytics Engine indexes are at most 96 bytes; client_ids are ASCII (README, clients). */
const MAX_INDEX_LENGTH = 96;

/** @param usage the `USAGE` Analytics Engine dataset, when bound. */
export function auditTrail(usage: AnalyticsEngineDataset | undefined): AuditTrail {
  return {
    write(record) {
      console.log(JSON.stringify(record));
      if (usage === undefined) return;
      try {
        usage.writeDataPoint({ indexes: [(record.client_id ?? NO_CLIENT_INDEX).slice(0, MAX_INDEX_LENGTH)], blobs: [record.audit, record.grant_type ?? "", record.reason ?? ""], doubles: [1] });
      } catch (cause) {
        // Analytics are best effort: a failing dataset never changes an answer.
        console.error(JSON.stringify({ event: "usage_dataset_failed", message: String(cause) }));
      }
    },
  };
}
