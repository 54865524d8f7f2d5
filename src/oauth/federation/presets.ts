/**
 * What an operator gets from `"preset"` when registering a trusted issuer (SPEC §9), so the
 * well-known issuers are one command, not a JSON document. Explicit fields override a preset,
 * except its protections: a multi-tenant issuer stays shared, single use and pinned on its
 * immutable ids (issuer-kinds.ts, trusted-issuer-metadata.ts).
 */
import type { JtiPolicy, TrustedIssuerPreset } from "../../core/federation.js";
import type { AsymmetricAlg } from "../../core/algorithms.js";

export interface PresetDefaults {
  /** The issuer, when the preset names one (GitHub Actions, GitLab.com). */
  readonly issuer?: string;
  /** Keys through OpenID discovery unless the operator names another source. */
  readonly discovery?: boolean;
  readonly allowed_algs: readonly AsymmetricAlg[];
  readonly shared: boolean;
  readonly immutable_claims?: readonly string[];
  readonly jti_policy: JtiPolicy;
}

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
export const GITLAB_COM_ISSUER = "https://gitlab.com";

/** Algorithms of an issuer registered without a preset or `allowed_algs`. */
export const DEFAULT_ALLOWED_ALGS: readonly AsymmetricAlg[] = ["RS256", "ES256"];

export const PRESETS: Record<TrustedIssuerPreset, PresetDefaults> = {
  // GitHub's OIDC tokens: RS256, a jti per token, one issuer for every repository on github.com.
  // repository_id / repository_owner_id never change; a repository or owner *name* can be deleted
  // and registered again by someone else.
  "github-actions": {
    issuer: GITHUB_ACTIONS_ISSUER,
    discovery: true,
    allowed_algs: ["RS256"],
    shared: true,
    immutable_claims: ["repository_id", "repository_owner_id"],
    jti_policy: "single_use",
  },
  // GitLab CI id_tokens from gitlab.com: RS256, a jti per token, every project on gitlab.com.
  gitlab: {
    issuer: GITLAB_COM_ISSUER,
    discovery: true,
    allowed_algs: ["RS256"],
    shared: true,
    immutable_claims: ["project_id", "namespace_id"],
    jti_policy: "single_use",
  },
  // A cluster's service-account issuer: one tenant (the cluster). Projected tokens carry no jti and
  // are read from a file many times while they live, so they are reusable until exp.
  kubernetes: { allowed_algs: ["RS256", "ES256"], shared: false, jti_policy: "reuse" },
  // A SPIFFE trust domain: JWT-SVIDs are cached and handed out again by the agent, and need no jti.
  spiffe: { allowed_algs: ["RS256", "ES256", "ES384", "PS256"], shared: false, jti_policy: "reuse" },
};

/** Issuers that are multi-tenant whatever the operator says, with their immutable tenant claims. */
export const WELL_KNOWN_SHARED_ISSUERS: ReadonlyMap<string, readonly string[]> = new Map([
  [GITHUB_ACTIONS_ISSUER, PRESETS["github-actions"].immutable_claims!],
  [GITLAB_COM_ISSUER, PRESETS.gitlab.immutable_claims!],
]);
