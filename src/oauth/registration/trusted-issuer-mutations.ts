/**
 * Creating, changing and removing trusted issuers (SPEC §9) as pure mutations of the stored
 * record, applied through their writer of record like client changes (apply.ts), so concurrent
 * admin changes are never lost. Input is parsed and refused with `invalid_request` naming the
 * field (federation/trusted-issuer-metadata.ts).
 */
import type { AddressPolicy } from "../../core/addresses.js";
import type { TrustedIssuerRecord } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import type * as z from "../../zod.js";
import { credentialRulesOf, recheckCredentialsNaming, type ClientPages } from "../federation/credential-checks.js";
import { MAX_ISSUER_LENGTH, trustedIssuerRecord, UpdateTrustedIssuerSchema, type TrustedIssuerInput } from "../federation/trusted-issuer-metadata.js";
import { applyTrustedIssuerChange, type AppliedChange } from "./apply.js";

export type TrustedIssuerPatch = z.infer<typeof UpdateTrustedIssuerSchema>;

/** A new trusted issuer. @throws OAuthError conflict when `current` exists. */
export function createdIssuer(current: TrustedIssuerRecord | null, record: TrustedIssuerRecord): TrustedIssuerRecord {
  if (current !== null) throw new OAuthError("trusted_issuer_exists");
  return record;
}

/**
 * A PATCH merged into the issuer and validated as a whole (`null` clears a field back to the
 * preset's default; a new key source replaces the old one).
 * @param addresses which issuer and key URLs are acceptable (loopback ones in local dev only).
 * @throws OAuthError not_found, invalid_request.
 */
export function patchedIssuer(current: TrustedIssuerRecord | null, patch: TrustedIssuerPatch, addresses: AddressPolicy, now: number): TrustedIssuerRecord {
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
  return trustedIssuerRecord(merged as TrustedIssuerInput, addresses, now, created_at);
}

/** Stop trusting an issuer: credentials that name it fail as "unknown issuer" from then on. @throws OAuthError not_found. */
export function deletedIssuer(current: TrustedIssuerRecord | null): null {
  existingIssuer(current);
  return null;
}

/** An issuer identifier from a path, or not_found when none can exist with it. */
export function checkedIssuerId(issuer: string): string {
  if (issuer.length === 0 || issuer.length > MAX_ISSUER_LENGTH) throw notFound();
  return issuer;
}

/** `current`, or not_found. */
export function existingIssuer(current: TrustedIssuerRecord | null): TrustedIssuerRecord {
  if (current === null) throw notFound();
  return current;
}

function notFound(): OAuthError {
  return new OAuthError("trusted_issuer_not_found");
}

/** What a checked trusted-issuer change reads: the writer of record, every client, this server's issuer. */
export interface IssuerChangeContext {
  readonly writer: Parameters<typeof applyTrustedIssuerChange>[0];
  readonly clients: ClientPages;
  readonly serverIssuer: string;
  readonly addressPolicy: AddressPolicy;
  readonly now: number;
}

/** Rounds of "re-check, then write" before giving up when the issuer's terms keep changing under us. */
const RECHECK_ROUNDS = 4;
const TERMS_CHANGED = Symbol("the terms credentials are judged by changed since they were re-checked");

/**
 * PATCH `patch` into trusted issuer `id` (SPEC §9): when it changes what credentials are judged by
 * (kind, shared, immutable claims), every credential naming the issuer is re-checked against the
 * result first, and the write goes through only if those terms are still the ones checked.
 * @throws OAuthError not_found, invalid_request, conflict naming unsafe credentials, 503.
 */
export async function applyCheckedIssuerPatch(ctx: IssuerChangeContext, id: string, patch: TrustedIssuerPatch): Promise<AppliedChange<TrustedIssuerRecord>> {
  for (let round = 1; ; round++) {
    const current = (await ctx.writer.read(id)).record;
    const candidate = patchedIssuer(current, patch, ctx.addressPolicy, ctx.now);
    const terms = credentialRulesOf(candidate);
    if (terms !== credentialRulesOf(current!)) await recheckCredentialsNaming(candidate, ctx.clients, ctx.serverIssuer);
    try {
      return await applyTrustedIssuerChange(ctx.writer, id, (latest) => {
        const next = patchedIssuer(latest, patch, ctx.addressPolicy, ctx.now);
        if (credentialRulesOf(next) !== terms) throw TERMS_CHANGED;
        return next;
      });
    } catch (err) {
      if (err !== TERMS_CHANGED) throw err;
      if (round >= RECHECK_ROUNDS) throw new OAuthError("trusted_issuer_change_contended");
    }
  }
}
