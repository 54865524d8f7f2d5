// @ts-check
/**
 * The fixed names and bounds of `token_quota` (SPEC §11) that the Worker and the plain-JS CLI both
 * check against: JSDoc-typed JavaScript, type-checked by tsc, so the CLI keeps no copy.
 * core/quota.ts holds the rules.
 */

/** `enforce`: never more than `limit` tokens per window; `observe`: never refuses, marks the excess. */
export const QUOTA_MODES = /** @type {const} */ (["enforce", "observe"]);
/** @typedef {(typeof QUOTA_MODES)[number]} QuotaMode */

/** Bounds of `token_quota`: `limit` tokens, `window` seconds. */
export const QUOTA_LIMIT_MIN = 1;
export const QUOTA_LIMIT_MAX = 1_000_000_000;
export const QUOTA_WINDOW_MIN_SECONDS = 60;
export const QUOTA_WINDOW_MAX_SECONDS = 2_592_000;
