/**
 * Creating, changing and removing trusted issuers (SPEC §9) through their writer of record, so
 * concurrent admin changes are never lost (the same compare-and-set as clients, client-changes.ts).
 */
import type { TrustedIssuerRecord } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import type { RecordWrites } from "../../stores/client-writer.js";
import { changeRecord, type AppliedChange } from "../client-changes.js";
import {
  CreateTrustedIssuerSchema,
  MAX_ISSUER_LENGTH,
  parseTrustedIssuerInput,
  trustedIssuerRecord,
  UpdateTrustedIssuerSchema,
  type TrustedIssuerInput,
} from "./trusted-issuer-metadata.js";

export interface TrustedIssuerAdminDependencies {
  readonly trustedIssuerWriter: RecordWrites<TrustedIssuerRecord>;
  /** Local dev only: `http://` loopback issuers and key URLs are acceptable (src/local-dev.ts). */
  readonly loopbackUrlsAllowed: boolean;
}

export interface TrustedIssuerChange {
  readonly record: TrustedIssuerRecord;
  readonly change: AppliedChange<TrustedIssuerRecord>;
}

/** Register an issuer. @throws OAuthError invalid_request (400) or conflict (409). */
export async function createTrustedIssuer(input: unknown, deps: TrustedIssuerAdminDependencies, now: number): Promise<TrustedIssuerChange> {
  const record = trustedIssuerRecord(parseTrustedIssuerInput(CreateTrustedIssuerSchema, input), deps.loopbackUrlsAllowed, now);
  const change = await changeRecord(deps.trustedIssuerWriter, record.issuer, (current) => {
    if (current !== null) throw new OAuthError("trusted_issuer_exists");
    return record;
  }, "trusted issuer");
  return { record, change };
}

/** Apply a PATCH (the merged issuer is validated as a whole). @throws OAuthError not_found, invalid_request. */
export async function updateTrustedIssuer(issuer: string, input: unknown, deps: TrustedIssuerAdminDependencies, now: number): Promise<TrustedIssuerChange> {
  const patch = parseTrustedIssuerInput(UpdateTrustedIssuerSchema, input);
  const change = await changeRecord(deps.trustedIssuerWriter, checkedId(issuer), (current) => {
    const { created_at, updated_at: _u, ...fields } = existingIssuer(current);
    const merged: Record<string, unknown> = { ...fields };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete merged[field];
      else if (value !== undefined) merged[field] = value;
    }
    // A new key source replaces the old one.
    const sources = ["discovery", "jwks_uri", "jwks", "spiffe_bundle_endpoint"] as const;
    const newSource = sources.find((name) => patch[name] !== undefined && patch[name] !== null && patch[name] !== false);
    if (newSource !== undefined) for (const name of sources) if (name !== newSource) delete merged[name];
    return trustedIssuerRecord(merged as TrustedIssuerInput, deps.loopbackUrlsAllowed, now, created_at);
  }, "trusted issuer");
  return { record: change.after!, change };
}

/** Stop trusting an issuer: credentials that name it fail as "unknown issuer" from then on. */
export async function deleteTrustedIssuer(issuer: string, deps: TrustedIssuerAdminDependencies): Promise<AppliedChange<TrustedIssuerRecord>> {
  return changeRecord(deps.trustedIssuerWriter, checkedId(issuer), (current) => {
    existingIssuer(current);
    return null;
  }, "trusted issuer");
}

/** The issuer as its writer of record knows it. @throws OAuthError not_found. */
export async function requireTrustedIssuer(issuer: string, deps: TrustedIssuerAdminDependencies): Promise<TrustedIssuerRecord> {
  return existingIssuer((await deps.trustedIssuerWriter.read(checkedId(issuer))).record);
}

function checkedId(issuer: string): string {
  if (issuer.length === 0 || issuer.length > MAX_ISSUER_LENGTH) throw notFound();
  return issuer;
}

function existingIssuer(current: TrustedIssuerRecord | null): TrustedIssuerRecord {
  if (current === null) throw notFound();
  return current;
}

function notFound(): OAuthError {
  return new OAuthError("trusted_issuer_not_found");
}
