/**
 * The schema of trusted issuers sent to `/admin/trusted-issuers` (SPEC §9), and the one function
 * that turns an input (a preset plus overrides) into the stored record, refusing with the field
 * named whatever could not work or would trust more than the operator meant.
 */
import { JTI_POLICIES, TRUSTED_ISSUER_PRESETS, type TrustedIssuerRecord } from "../../core/federation.js";
import { fetchUrlProblem, isLoopbackHostname, type AddressPolicy } from "../../core/addresses.js";
import * as z from "../../zod.js";
import { PRIVATE_KEY_JWT_ALGS } from "../../core/algorithms.js";
import { ClientJwkSchema } from "../registration/schema.js";
import { OAuthError } from "../../core/errors.js";
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from "../../core/protocol.js";
import { DEFAULT_ALLOWED_ALGS, PRESETS, WELL_KNOWN_SHARED_ISSUERS } from "./presets.js";
import { isOwnIssuer, presetWeakening } from "./issuer-kinds.js";

/** Longest issuer identifier: the KV key `trusted-issuer:<issuer>` must stay under 512 bytes. */
export const MAX_ISSUER_LENGTH = 400;

const url = z.string().check(z.maxLength(2048), z.refine((v) => URL.canParse(v), "must be an absolute URL"));
const claimName = z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be a claim name (1-64 characters of A-Z a-z 0-9 _ . : -)"));

const fields = {
  discovery: z.boolean(),
  jwks_uri: url,
  jwks: z.strictObject({
    keys: z
      .array(ClientJwkSchema.check(z.refine((jwk) => typeof jwk.kid === "string", { message: "is required (issuer keys are found by kid)", path: ["kid"] })))
      .check(z.minLength(1), z.maxLength(20)),
  }),
  spiffe_bundle_endpoint: url,
  allowed_algs: z.array(z.enum(PRIVATE_KEY_JWT_ALGS)).check(z.minLength(1), z.maxLength(PRIVATE_KEY_JWT_ALGS.length)),
  max_token_lifetime: z.number().check(z.int(), z.gte(60), z.lte(86_400)),
  shared: z.boolean(),
  immutable_claims: z.array(claimName).check(z.minLength(1), z.maxLength(10)),
  jti_policy: z.enum(JTI_POLICIES),
};

export const CreateTrustedIssuerSchema = z.strictObject({
  issuer: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_ISSUER_LENGTH))),
  preset: z.optional(z.enum(TRUSTED_ISSUER_PRESETS)),
  discovery: z.optional(fields.discovery),
  jwks_uri: z.optional(fields.jwks_uri),
  jwks: z.optional(fields.jwks),
  spiffe_bundle_endpoint: z.optional(fields.spiffe_bundle_endpoint),
  allowed_algs: z.optional(fields.allowed_algs),
  max_token_lifetime: z.optional(fields.max_token_lifetime),
  shared: z.optional(fields.shared),
  immutable_claims: z.optional(fields.immutable_claims),
  jti_policy: z.optional(fields.jti_policy),
});

/** PATCH: any field but `issuer`; `null` clears one (back to the preset's default). */
export const UpdateTrustedIssuerSchema = z.strictObject({
  preset: z.optional(z.nullable(z.enum(TRUSTED_ISSUER_PRESETS))),
  discovery: z.optional(z.nullable(fields.discovery)),
  jwks_uri: z.optional(z.nullable(fields.jwks_uri)),
  jwks: z.optional(z.nullable(fields.jwks)),
  spiffe_bundle_endpoint: z.optional(z.nullable(fields.spiffe_bundle_endpoint)),
  allowed_algs: z.optional(z.nullable(fields.allowed_algs)),
  max_token_lifetime: z.optional(z.nullable(fields.max_token_lifetime)),
  shared: z.optional(z.nullable(fields.shared)),
  immutable_claims: z.optional(z.nullable(fields.immutable_claims)),
  jti_policy: z.optional(z.nullable(fields.jti_policy)),
});

export type TrustedIssuerInput = z.infer<typeof CreateTrustedIssuerSchema>;

/** SPEC §9: bad input is 400 `invalid_request` naming the field. */
export function invalidMetadata(field: string, problem: string): OAuthError {
  return new OAuthError("trusted_issuer_invalid", `${field}: ${problem}`);
}

/** Parse admin input with `schema`, or throw naming the first bad field. */
export function parseTrustedIssuerInput<S extends z.ZodMiniType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw invalidMetadata(issue.path.length > 0 ? issue.path.join(".") : "body", issue.message);
}

const KEY_SOURCES = ["discovery", "jwks_uri", "jwks", "spiffe_bundle_endpoint"] as const;

/** Whether tokens of this issuer are JWT-SVIDs (the `…:jwt-spiffe` assertion type is theirs). */
export function isSpiffeIssuer(record: Pick<TrustedIssuerRecord, "preset" | "spiffe_bundle_endpoint">): boolean {
  return record.preset === "spiffe" || record.spiffe_bundle_endpoint !== undefined;
}

/**
 * The record to store for `input`, with the preset's defaults filled in.
 * @param addresses which issuer and key URLs are acceptable (`http://` loopback ones in local dev only).
 * @throws OAuthError invalid_client_metadata naming the field.
 */
export function trustedIssuerRecord(input: TrustedIssuerInput, addresses: AddressPolicy, now: number, createdAt = now): TrustedIssuerRecord {
  const preset = input.preset === undefined ? undefined : PRESETS[input.preset];
  const issuer = input.issuer ?? preset?.issuer;
  if (issuer === undefined) throw invalidMetadata("issuer", "is required (only the github-actions and gitlab presets name their issuer)");
  const spiffe = isSpiffeIssuer(input);

  const given = KEY_SOURCES.filter((name) => input[name] !== undefined && input[name] !== false);
  if (given.length > 1) throw invalidMetadata(given[1]!, `give exactly one of ${KEY_SOURCES.join(", ")}`);
  const discovery = given.length === 0 ? preset?.discovery === true : input.discovery === true;
  if (given.length === 0 && !discovery) throw invalidMetadata("jwks_uri", `how the issuer's keys are found is required: one of ${KEY_SOURCES.join(", ")}`);

  checkIssuer(issuer, spiffe, discovery, addresses);
  for (const name of ["jwks_uri", "spiffe_bundle_endpoint"] as const) {
    const value = input[name];
    if (value !== undefined && fetchUrlProblem(value, addresses) !== undefined) {
      throw invalidMetadata(name, "must be an https:// URL this server may fetch (http:// and loopback hosts only in local dev)");
    }
  }

  const wellKnownClaims = WELL_KNOWN_SHARED_ISSUERS.get(issuer);
  const mustBeShared = preset?.shared === true || wellKnownClaims !== undefined;
  if (mustBeShared && input.shared === false) {
    throw invalidMetadata("shared", `${issuer} is a multi-tenant issuer: anyone can get a token from it, so it is always shared`);
  }
  // SPEC §9: an issuer without a preset may sign for anyone (a SaaS CI, an OIDC provider): shared
  // unless the operator says it is theirs alone.
  const shared = input.shared ?? preset?.shared ?? true;
  const immutableClaims = input.immutable_claims ?? preset?.immutable_claims ?? wellKnownClaims;
  if (shared && immutableClaims === undefined) {
    throw invalidMetadata(
      "immutable_claims",
      `a shared issuer needs the claims that identify a tenant and can never be re-registered by someone else (e.g. repository_id); an issuer without a preset is shared unless "shared": false says only your workloads get its tokens`,
    );
  }
  const jtiPolicy = input.jti_policy ?? preset?.jti_policy ?? "single_use";
  // A preset's protections cannot be weakened by the record (issuer-kinds.ts).
  const weakening = presetWeakening({ issuer, preset: input.preset, spiffe_bundle_endpoint: input.spiffe_bundle_endpoint, immutable_claims: immutableClaims, jti_policy: jtiPolicy });
  if (weakening) throw invalidMetadata(...weakening);

  const record: TrustedIssuerRecord = {
    issuer,
    ...(input.preset !== undefined ? { preset: input.preset } : {}),
    ...(discovery ? { discovery: true } : {}),
    ...(input.jwks_uri !== undefined ? { jwks_uri: input.jwks_uri } : {}),
    ...(input.jwks !== undefined ? { jwks: input.jwks as TrustedIssuerRecord["jwks"] & object } : {}),
    ...(input.spiffe_bundle_endpoint !== undefined ? { spiffe_bundle_endpoint: input.spiffe_bundle_endpoint } : {}),
    allowed_algs: [...(input.allowed_algs ?? preset?.allowed_algs ?? DEFAULT_ALLOWED_ALGS)],
    max_token_lifetime: input.max_token_lifetime ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    shared,
    ...(immutableClaims !== undefined ? { immutable_claims: [...immutableClaims] } : {}),
    jti_policy: jtiPolicy,
    created_at: createdAt,
    updated_at: now,
  };
  return record;
}

/**
 * SPEC §9: this server's own issuer (any URL of its origin) is never a trusted issuer: its access
 * tokens would then authenticate as any client whose credential names one of its clients.
 * @throws OAuthError invalid_request naming `issuer`.
 */
export function refuseOwnIssuer(issuer: string, serverIssuer: string): void {
  if (isOwnIssuer(issuer, serverIssuer)) throw invalidMetadata("issuer", `is this server's own issuer (${serverIssuer}): it never trusts itself; its access tokens are never client assertions`);
}

/**
 * The issuer is an absolute https URL without query, fragment or credentials (`http://` loopback in
 * local dev), or for SPIFFE a trust domain `spiffe://<td>`. With discovery it is also fetched.
 */
function checkIssuer(issuer: string, spiffe: boolean, discovery: boolean, addresses: AddressPolicy): void {
  if (!URL.canParse(issuer)) throw invalidMetadata("issuer", "must be an absolute URL");
  const parsed = new URL(issuer);
  if (parsed.search !== "" || parsed.hash !== "" || issuer.includes("#") || issuer.includes("?")) throw invalidMetadata("issuer", "must not have a query or fragment");
  if (parsed.username !== "" || parsed.password !== "") throw invalidMetadata("issuer", "must not contain credentials");
  if (parsed.protocol === "spiffe:") {
    if (!spiffe) throw invalidMetadata("issuer", "a spiffe:// trust domain is an issuer only with the spiffe preset or a spiffe_bundle_endpoint");
    if (discovery) throw invalidMetadata("discovery", "a spiffe:// trust domain has no discovery document");
    if (!/^spiffe:\/\/[a-z0-9._-]+$/.test(issuer)) throw invalidMetadata("issuer", "a SPIFFE trust domain is spiffe://<trust-domain>, lower case, without a path");
    return;
  }
  const loopbackHttp = parsed.protocol === "http:" && isLoopbackHostname(parsed.hostname) && addresses.loopbackAllowed;
  if (parsed.protocol !== "https:" && !loopbackHttp) throw invalidMetadata("issuer", "must be an https:// URL (http:// to a loopback host only in local dev)");
  if (discovery && fetchUrlProblem(issuer, addresses) !== undefined) {
    throw invalidMetadata("issuer", "its discovery document must be an https:// URL this server may fetch (loopback hosts only in local dev)");
  }
}
