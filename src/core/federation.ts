/**
 * The vocabulary of federated client authentication (SPEC §9), shared by every layer: the trusted
 * issuer record (stored by stores/trusted-issuers.ts), the federated credential on a client record,
 * and the fixed lists both are validated against. Types and constants only, no rules.
 */
import type { JWK } from "jose";
import type { AsymmetricAlg } from "./algorithms.js";
import type { FederatedGrant, JtiPolicy, TrustedIssuerPreset } from "./federation-names.js";

export { FEDERATED_GRANTS, JTI_POLICIES, TRUSTED_ISSUER_PRESETS } from "./federation-names.js";
export type { FederatedGrant, JtiPolicy, TrustedIssuerPreset } from "./federation-names.js";

/** A trusted external issuer, stored in KV under `trusted-issuer:<issuer>` (SPEC §9). */
export interface TrustedIssuerRecord {
  /** The exact `iss` of its tokens; for SPIFFE also `spiffe://<trust-domain>` (tokens without `iss`). */
  issuer: string;
  preset?: TrustedIssuerPreset;
  /** Keys found through OpenID discovery: `<issuer>/.well-known/openid-configuration` → `jwks_uri`. */
  discovery?: boolean;
  jwks_uri?: string;
  jwks?: { keys: JWK[] };
  /** A SPIFFE bundle endpoint: a JWK Set whose `use: "jwt-svid"` keys verify JWT-SVIDs. */
  spiffe_bundle_endpoint?: string;
  /** Algorithms its tokens may use (asymmetric only). */
  allowed_algs: AsymmetricAlg[];
  /** Longest accepted token lifetime in seconds: `exp − iat`, and `exp − now`. Default DEFAULT_MAX_TOKEN_LIFETIME_SECONDS (core/protocol.js). */
  max_token_lifetime: number;
  /** A multi-tenant issuer (GitHub, GitLab.com): its credentials must pin an immutable claim. */
  shared: boolean;
  /** For a shared issuer: the claims that identify a tenant and can never be re-registered by another. */
  immutable_claims?: string[];
  jti_policy: JtiPolicy;
  /** Seconds since the epoch. */
  created_at: number;
  updated_at: number;
}

/** One workload identity allowed to act as the client (SPEC §9 `federated_credentials`). */
export interface FederatedCredential {
  /** Unique within the client. */
  name: string;
  /** A trusted issuer's `issuer`. */
  issuer: string;
  /** Exactly one of `subject` (exact) and `subject_pattern` (`*` within one `:`/`/` segment). */
  subject?: string;
  subject_pattern?: string;
  /** Required in the token's `aud`; must be this server's issuer identifier (the default). */
  audience?: string;
  /** Claims that must equal these values (compared as strings). */
  claims?: Record<string, string>;
  /** Kubernetes only: admit a `system:serviceaccount:<ns>:default` subject. */
  allow_default_service_account?: boolean;
  /**
   * How the workload may use its token (SPEC §13): as a client assertion of this client, and/or as
   * the JWT bearer grant's `assertion` (no client_id). Absent: `["client_assertion"]`.
   */
  grants?: FederatedGrant[];
}

/** Whether `credential` allows `grant` (absent `grants`: client assertions only). */
export const credentialAllows = (credential: FederatedCredential, grant: FederatedGrant): boolean => (credential.grants ?? ["client_assertion"]).includes(grant);

/** The replay-guard scope of a federated `jti`: single use per issuer, across clients (SPEC §9, §10). */
export const federatedJtiScope = (issuer: string) => `federated:${issuer}`;
