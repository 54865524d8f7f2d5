/**
 * Registration rules of federated credentials (SPEC §9 "Safe by default"): a credential is refused,
 * with a message that says why, when it would admit more than its author meant. Each rule closes
 * a trap of the systems this feature is modelled on (README / docs/federation.md "Safe pinning").
 */
import type { FederatedCredential, TrustedIssuerRecord } from "../../core/federation.js";
import type { TrustedIssuers } from "../../stores/trusted-issuers.js";
import { invalidMetadata } from "../registration/invalid-metadata.js";
import { isWildcardsOnly, subjectMatchesPattern } from "./subject-pattern.js";

export interface CredentialCheckDependencies {
  readonly trustedIssuers: TrustedIssuers;
  /** This server's issuer identifier: the only audience a credential may require. */
  readonly issuer: string;
}

/** `system:serviceaccount:<namespace>:<name>`, the `sub` of Kubernetes service-account tokens. */
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

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
  const pattern = credential.subject_pattern;
  if (pattern !== undefined && isWildcardsOnly(pattern)) {
    return ["subject_pattern", "is only wildcards: it would admit every workload of the issuer; name at least one literal segment"];
  }
  // A shared issuer (GitHub, GitLab.com) signs tokens for anyone's repositories; names in sub
  // (repo:owner/name) can be deleted and registered again by someone else. Only an immutable id pins
  // the tenant.
  if (issuer.shared) {
    const pins = issuer.immutable_claims ?? [];
    if (!pins.some((claim) => credential.claims?.[claim] !== undefined)) {
      return ["claims", `${issuer.issuer} is a shared issuer: pin ${pins.join(" or ")} in claims (names can be deleted and registered again by someone else)`];
    }
  }
  // The default service account is what every pod of a namespace runs as unless it names another.
  if (credential.allow_default_service_account !== true && admitsDefaultServiceAccount(credential)) {
    return [
      credential.subject !== undefined ? "subject" : "subject_pattern",
      "admits a namespace's default service account, which every pod that names none runs as; use a dedicated service account, or set allow_default_service_account: true",
    ];
  }
  // A JWT-SVID's sub is a SPIFFE ID of the issuer's trust domain.
  if (issuer.issuer.startsWith("spiffe://")) {
    const wanted = `${issuer.issuer}/`;
    const value = credential.subject ?? pattern!;
    if (!value.startsWith(wanted)) return [credential.subject !== undefined ? "subject" : "subject_pattern", `must be a SPIFFE ID of the trust domain (${wanted}…)`];
  }
  return undefined;
}

function admitsDefaultServiceAccount(credential: FederatedCredential): boolean {
  if (credential.subject !== undefined) return SERVICE_ACCOUNT_SUBJECT.exec(credential.subject)?.[2] === "default";
  const pattern = credential.subject_pattern!;
  if (!pattern.startsWith("system:serviceaccount:")) return false;
  const namespace = pattern.split(":")[2] ?? "";
  return subjectMatchesPattern(pattern, `system:serviceaccount:${namespace.replace(/\*/g, "x")}:default`);
}
