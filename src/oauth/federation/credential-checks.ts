/**
 * Registration rules of federated credentials (SPEC §9 "Safe by default"): a credential is refused,
 * with a message that says why, when it would admit more than its author meant. Each rule closes
 * a trap of the systems this feature is modelled on (README / docs/federation.md "Safe pinning").
 */
import type { ClientRecord } from "../../core/client-record.js";
import { OAuthError } from "../../core/errors.js";
import type { FederatedCredential, TrustedIssuerRecord } from "../../core/federation.js";
import type { TrustedIssuers } from "../../stores/trusted-issuers.js";
import { invalidMetadata } from "../registration/invalid-metadata.js";
import { isOwnIssuer, issuerKind, SUBJECT_PREFIX, SUBJECT_TEMPLATE_WORDS } from "./issuer-kinds.js";
import { globMatches, isWildcardsOnly, segments } from "./subject-pattern.js";

export interface CredentialCheckDependencies {
  readonly trustedIssuers: TrustedIssuers;
  /** This server's issuer identifier: the only audience a credential may require. */
  readonly issuer: string;
}

/**
 * Check a client's whole list of federated credentials.
 * @throws OAuthError invalid_client_metadata naming `federated_credentials.<i>.<field>`, or 503.
 */
export async function checkFederatedCredentials(credentials: readonly FederatedCredential[] | undefined, deps: CredentialCheckDependencies): Promise<void> {
  if (credentials === undefined) return;
  const names = new Set<string>();
  for (const [i, credential] of credentials.entries()) {
    const field = (name: string) => `federated_credentials.${i}.${name}`;
    if (names.has(credential.name)) throw invalidMetadata(field("name"), `"${credential.name}" is used twice; names are unique within a client`);
    names.add(credential.name);
    // SPEC §9: this server never trusts itself (its access tokens would authenticate as any client);
    // checked before the lookup, so the answer says so rather than "not a trusted issuer".
    if (isOwnIssuer(credential.issuer, deps.issuer)) throw invalidMetadata(field("issuer"), "is this server's own issuer: its access tokens are never client assertions");
    const issuer = await deps.trustedIssuers.get(credential.issuer);
    if (issuer === null) throw invalidMetadata(field("issuer"), `${credential.issuer} is not a trusted issuer (register it first: POST /admin/trusted-issuers)`);
    const problem = credentialProblem(credential, issuer, deps.issuer);
    if (problem) throw invalidMetadata(field(problem[0]), problem[1]);
  }
}

/**
 * The first rule `credential` breaks on `issuer`, as [field, why], or undefined.
 * Pure, so each rule is tested on its own.
 */
export function credentialProblem(credential: FederatedCredential, issuer: TrustedIssuerRecord, serverIssuer: string): [string, string] | undefined {
  // Every supported issuer lets the workload choose the audience when it asks for a token, so a
  // token minted for another service is never needed here, and accepting one would let that
  // service replay its tokens against us.
  if (credential.audience !== undefined && credential.audience !== serverIssuer) {
    return ["audience", `must be this server's issuer identifier (${serverIssuer}): the workload asks its issuer for a token with that audience`];
  }
  const subjectField = credential.subject !== undefined ? "subject" : "subject_pattern";
  const why = subjectProblem(credential, issuer);
  if (why !== undefined) return [subjectField, why];
  // A shared issuer (GitHub, GitLab.com) signs tokens for anyone's repositories; names in sub
  // (repo:owner/name) can be deleted and registered again by someone else. Only an immutable id pins
  // the tenant.
  if (issuer.shared) {
    const pins = issuer.immutable_claims ?? [];
    if (!pins.some((claim) => credential.claims?.[claim] !== undefined)) {
      return ["claims", `${issuer.issuer} is a shared issuer: pin ${pins.join(" or ")} in claims (names can be deleted and registered again by someone else)`];
    }
  }
  return undefined;
}

/** `system:serviceaccount:<namespace>:<name>`, the `sub` of Kubernetes service-account tokens. */
const SERVICE_ACCOUNT = { texts: ["system", "serviceaccount"], separators: ":::" } as const;

/** The rule the subject or pattern breaks for its kind of issuer (issuer-kinds.ts), or undefined. */
function subjectProblem(credential: FederatedCredential, issuer: TrustedIssuerRecord): string | undefined {
  const kind = issuerKind(issuer);
  const pattern = credential.subject_pattern;
  const value = credential.subject ?? pattern!;
  const parts = segments(value);
  // A JWT-SVID's sub is a SPIFFE ID of the issuer's trust domain.
  if (issuer.issuer.startsWith("spiffe://") && !value.startsWith(`${issuer.issuer}/`)) return `must be a SPIFFE ID of the trust domain (${issuer.issuer}/…)`;
  // Kubernetes: what an issuer registered as a cluster signs, or what has the shape of its subjects.
  const serviceAccount =
    parts.separators === SERVICE_ACCOUNT.separators && SERVICE_ACCOUNT.texts.every((text, i) => (pattern === undefined ? parts.texts[i] === text : globMatches(parts.texts[i]!, text)));
  if (kind === "kubernetes" && !(serviceAccount && value.startsWith(SUBJECT_PREFIX.kubernetes))) {
    return "must be system:serviceaccount:<namespace>:<service account> (the sub of a Kubernetes service-account token)";
  }
  if (serviceAccount) {
    const [namespace, name] = [parts.texts[2]!, parts.texts[3]!];
    // The default service account is what every pod of a namespace runs as unless it names another.
    const admitsDefault = pattern === undefined ? name === "default" : globMatches(name, "default");
    if (admitsDefault && credential.allow_default_service_account !== true) {
      return "admits a namespace's default service account, which every pod that names none runs as; use a dedicated service account, or set allow_default_service_account: true";
    }
    if (pattern !== undefined && (namespace.includes("*") || name.includes("*"))) {
      return "must name a literal namespace and service account (system:serviceaccount:<namespace>:<name>, no *): a wildcard namespace admits every namespace of the cluster, a wildcard name every account in it";
    }
    return undefined;
  }
  if (pattern === undefined) return undefined;
  // SPIFFE: spiffe://<trust-domain>/<first segment>/…; the trust domain and the first segment literal.
  if (value.startsWith(SUBJECT_PREFIX.spiffe)) {
    const trustDomain = parts.texts[3]!;
    const prefix = `spiffe://${trustDomain}/`;
    if (trustDomain.includes("*")) return "must name a literal trust domain (spiffe://<trust-domain>/…)";
    if (isWildcardsOnly(pattern, 4)) return `is only wildcards after ${prefix}: it would admit every workload of the trust domain; name at least one literal segment`;
    if (parts.texts[4]!.includes("*")) return `must name a literal first path segment after the trust domain (${prefix}<segment>/…): a wildcard there admits most of the trust domain`;
    return undefined;
  }
  // "Only wildcards" is judged after the part every subject of the issuer shares: its fixed prefix
  // (repo:, project_path:) and the words of its subject template (ref, refs/heads, ref_type…).
  const prefix = SUBJECT_PREFIX[kind];
  const fixed = prefix !== "" && value.startsWith(prefix) ? segments(prefix).texts.length - 1 : 0;
  if (parts.texts.slice(fixed).every((text) => /^\**$/.test(text) || SUBJECT_TEMPLATE_WORDS[kind].includes(text))) {
    return `is only wildcards${fixed > 0 ? ` after ${prefix}` : ""}: it would admit every workload of the issuer; name at least one literal segment`;
  }
  return undefined;
}

/** Every client, a page at a time (stores/clients.ts `list`). */
export interface ClientPages {
  list(limit: number, cursor?: string): Promise<{ clients: readonly ClientRecord[]; next_cursor?: string }>;
}

/** How many unsafe credentials a refusal names. */
const NAMED_CREDENTIALS = 5;

/** What a credential is judged by on its issuer: its kind, whether it is shared, its immutable claims. */
export function credentialRulesOf(issuer: TrustedIssuerRecord): string {
  return JSON.stringify([issuerKind(issuer), issuer.shared, issuer.immutable_claims ?? null]);
}

/**
 * SPEC §9: a trusted issuer about to be stored as `issuer` (created again, or changed) is held
 * against every credential that names it; a change that would make one unsafe is refused, naming it.
 * Reads every client record (an admin action, not the token path).
 * @throws OAuthError conflict `trusted_issuer_change_unsafe_credentials`, or 503 when KV fails.
 */
export async function recheckCredentialsNaming(issuer: TrustedIssuerRecord, clients: ClientPages, serverIssuer: string): Promise<void> {
  const unsafe: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await clients.list(100, cursor);
    for (const client of page.clients) {
      for (const credential of client.federated_credentials ?? []) {
        if (credential.issuer !== issuer.issuer) continue;
        const problem = credentialProblem(credential, issuer, serverIssuer);
        if (problem) unsafe.push(`${client.client_id}/${credential.name} (${problem[0]}: ${problem[1]})`);
      }
    }
    cursor = page.next_cursor;
  } while (cursor !== undefined && unsafe.length < NAMED_CREDENTIALS);
  if (unsafe.length > 0) throw new OAuthError("trusted_issuer_change_unsafe_credentials", unsafe.slice(0, NAMED_CREDENTIALS).join("; "));
}
