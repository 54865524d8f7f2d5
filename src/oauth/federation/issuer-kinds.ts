/**
 * Kinds of trusted issuer (SPEC §9 "Safe by default"): a credential is judged by who issues its
 * tokens, after the part every subject of that issuer shares, and a preset's protections hold
 * whatever the record says.
 *
 * - GitHub Actions (`repo:<owner>/<repo>:…`) and GitLab (`project_path:<group>/<project>:…`): a
 *   subject pattern needs something literal after that fixed prefix; the issuer stays shared, its
 *   tokens single use, and its credentials pinned on the preset's immutable ids.
 * - Kubernetes (`system:serviceaccount:<namespace>:<name>`): both names literal; never `default`.
 * - SPIFFE (`spiffe://<trust-domain>/<path>`): the first path segment literal.
 * - Any other OIDC issuer: shared unless the operator says `"shared": false`.
 * A subject shaped like a Kubernetes or SPIFFE one is judged by that kind's rules whatever preset
 * its issuer was registered with: the shape, not the label, says what it admits.
 */
import { isLoopbackHostname } from "../../core/addresses.js";
import type { JtiPolicy, TrustedIssuerRecord } from "../../core/federation.js";
import { GITHUB_ACTIONS_ISSUER, GITLAB_COM_ISSUER, PRESETS } from "./presets.js";

export type IssuerKind = "github-actions" | "gitlab" | "kubernetes" | "spiffe" | "oidc";

/** What says which kind an issuer is. */
export interface IssuerIdentity {
  readonly issuer: string;
  readonly preset?: TrustedIssuerRecord["preset"] | undefined;
  readonly spiffe_bundle_endpoint?: string | undefined;
}

/** The part every subject of an issuer of this kind starts with ("" when none is known). */
export const SUBJECT_PREFIX = {
  "github-actions": "repo:",
  gitlab: "project_path:",
  kubernetes: "system:serviceaccount:",
  spiffe: "spiffe://",
  oidc: "",
} as const satisfies Record<IssuerKind, string>;

/**
 * Words of the kind's subject template that every subject may carry (GitHub `repo:<owner>/<repo>:ref:refs/heads/<branch>`,
 * GitLab `project_path:<group>/<project>:ref_type:<type>:ref:<ref>`): they are not "something literal".
 */
export const SUBJECT_TEMPLATE_WORDS: Record<IssuerKind, readonly string[]> = {
  "github-actions": ["repo", "ref", "refs", "heads", "tags", "pull", "environment", "pull_request"],
  gitlab: ["project_path", "ref_type", "ref", "branch", "tag"],
  kubernetes: [],
  spiffe: [],
  oidc: [],
};

/** The kind of `issuer`: its preset, else what its identifier says (GitHub, GitLab.com, a SPIFFE trust domain). */
export function issuerKind(issuer: IssuerIdentity): IssuerKind {
  if (issuer.preset === "github-actions" || issuer.issuer === GITHUB_ACTIONS_ISSUER) return "github-actions";
  if (issuer.preset === "gitlab" || issuer.issuer === GITLAB_COM_ISSUER) return "gitlab";
  if (issuer.preset === "kubernetes") return "kubernetes";
  if (issuer.preset === "spiffe" || issuer.spiffe_bundle_endpoint !== undefined || issuer.issuer.startsWith("spiffe://")) return "spiffe";
  return "oidc";
}

/**
 * What a multi-tenant preset guarantees: its credentials pin one of `immutableClaims` (the first is
 * always among them) and its tokens are single use. GitHub Actions and GitLab only.
 */
export function presetProtections(kind: IssuerKind): { readonly immutableClaims: readonly string[] } | undefined {
  if (kind === "github-actions") return { immutableClaims: PRESETS["github-actions"].immutable_claims! };
  if (kind === "gitlab") return { immutableClaims: PRESETS.gitlab.immutable_claims! };
  return undefined;
}

/**
 * The first way `record` weakens its kind's preset, as [field, why], or undefined.
 * A record may narrow the immutable claims (keep the first, drop others), never replace them.
 */
export function presetWeakening(record: IssuerIdentity & { readonly immutable_claims: readonly string[] | undefined; readonly jti_policy: JtiPolicy }): [string, string] | undefined {
  const kind = issuerKind(record);
  const protections = presetProtections(kind);
  if (protections === undefined) return undefined;
  const allowed = protections.immutableClaims;
  const claims = record.immutable_claims ?? allowed;
  if (!claims.includes(allowed[0]!)) {
    return ["immutable_claims", `the ${kind} preset pins its credentials on immutable ids: the list must include ${allowed[0]} (a name in sub can be deleted and registered again by someone else)`];
  }
  const other = claims.find((claim) => !allowed.includes(claim));
  if (other !== undefined) {
    return ["immutable_claims", `the ${kind} preset accepts only ${allowed.join(", ")} as immutable claims; "${other}" does not identify a tenant for good`];
  }
  if (record.jti_policy !== "single_use") {
    return ["jti_policy", `the ${kind} preset's tokens are single use (they carry a jti); reuse would let a leaked token be replayed until it expires`];
  }
  return undefined;
}

/**
 * Whether `issuer` names this server (`serverIssuer`): the same origin (any path under it), a
 * loopback host counting as one whatever its spelling, as in local dev.
 */
export function isOwnIssuer(issuer: string, serverIssuer: string): boolean {
  if (!URL.canParse(issuer) || !URL.canParse(serverIssuer)) return issuer === serverIssuer;
  const [a, b] = [new URL(issuer), new URL(serverIssuer)];
  const host = (url: URL) => (isLoopbackHostname(url.hostname) ? "127.0.0.1" : url.hostname);
  return a.protocol === b.protocol && host(a) === host(b) && a.port === b.port;
}
