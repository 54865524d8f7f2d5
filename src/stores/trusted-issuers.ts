/**
 * Trusted issuers (SPEC §9) in Workers KV under `trusted-issuer:<issuer>`, beside the client
 * registry: read on every federated request through the one cached record store (kv-records.ts,
 * as client records: README "Consistency"), written only by the writer of record
 * (registry-writer.ts).
 */
import type { TrustedIssuerRecord } from "../core/federation.js";
import { TRUSTED_ISSUER_KEY_PREFIX } from "./kv-keys.js";
import { KvRecordStore, type RecordKind } from "./kv-records.js";

const TRUSTED_ISSUERS: RecordKind<TrustedIssuerRecord, "trusted_issuers"> = {
  name: "trusted_issuer",
  prefix: TRUSTED_ISSUER_KEY_PREFIX,
  listName: "trusted_issuers",
  idOf: (record) => record.issuer,
  isRecord: (value): value is TrustedIssuerRecord =>
    typeof value === "object" && value !== null && typeof (value as TrustedIssuerRecord).issuer === "string" && Array.isArray((value as TrustedIssuerRecord).allowed_algs),
};

/** What client authentication needs: one issuer by its exact `iss`. */
export interface TrustedIssuers {
  /** @throws OAuthError 503 when KV cannot be read. */
  get(issuer: string): Promise<TrustedIssuerRecord | null>;
}

/** The registry of trusted issuers: KV `trusted-issuer:<issuer>` through the isolate cache. */
export class TrustedIssuerRegistry extends KvRecordStore<TrustedIssuerRecord, "trusted_issuers"> implements TrustedIssuers {
  /** @param now the clock in ms (tests inject one). */
  constructor(kv: KVNamespace, now?: () => number) {
    super(kv, TRUSTED_ISSUERS, now);
  }
}
