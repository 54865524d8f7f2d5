// @ts-check
/**
 * The fixed names of federation (SPEC §9) that the Worker and the plain-JS CLI both check against:
 * JSDoc-typed JavaScript, type-checked by tsc, so the CLI keeps no copy. core/federation.ts holds
 * the record types.
 */

/** Presets for the well-known issuers (oauth/federation/presets.ts fills in their settings). */
export const TRUSTED_ISSUER_PRESETS = /** @type {const} */ (["github-actions", "gitlab", "kubernetes", "spiffe"]);
/** @typedef {(typeof TRUSTED_ISSUER_PRESETS)[number]} TrustedIssuerPreset */

/** `single_use`: each `jti` is accepted once per issuer; `reuse`: a token may be presented until it expires. */
export const JTI_POLICIES = /** @type {const} */ (["single_use", "reuse"]);
/** @typedef {(typeof JTI_POLICIES)[number]} JtiPolicy */

/** SPEC §13: how a federated credential may be used: as a client assertion (the default) and/or as the JWT bearer grant's assertion. */
export const FEDERATED_GRANTS = /** @type {const} */ (["client_assertion", "jwt_bearer"]);
/** @typedef {(typeof FEDERATED_GRANTS)[number]} FederatedGrant */
