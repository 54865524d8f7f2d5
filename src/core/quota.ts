/**
 * Per-client token quotas (SPEC §11): the `token_quota` field, its fixed windows aligned to the Unix
 * epoch, and what one counter decision means. Pure functions of a quota, a count and `now`, shared
 * by the counter object (stores/quota-counter.ts), the token endpoint (oauth/issuance.ts) and the
 * usage report.
 */

import type { QuotaMode } from "./quota-names.js";

export { QUOTA_LIMIT_MAX, QUOTA_LIMIT_MIN, QUOTA_MODES, QUOTA_WINDOW_MAX_SECONDS, QUOTA_WINDOW_MIN_SECONDS } from "./quota-names.js";
export type { QuotaMode } from "./quota-names.js";

/** A client's `token_quota`: at most `limit` tokens per fixed `window` (seconds). */
export interface TokenQuota {
  readonly limit: number;
  readonly window: number;
  readonly mode: QuotaMode;
}

/** Window k covers `[k·window, (k+1)·window)` (SPEC §11): the one that holds `now` (seconds). */
export function quotaWindow(window: number, now: number): { readonly start: number; readonly end: number } {
  const start = Math.floor(now / window) * window;
  return { start, end: start + window };
}

/**
 * What the counter decided for one token:
 * - `within`: issued, counted, inside the limit;
 * - `exceeded_observed`: issued beyond the limit (observe mode), counted and marked;
 * - `exceeded`: refused (enforce mode), not counted as issued.
 */
export type QuotaOutcome = "within" | "exceeded_observed" | "exceeded";

/** The counter's state of one window after a decision (or a read). */
export interface QuotaWindowState {
  readonly start: number;
  readonly end: number;
  /** Tokens issued in the window, those beyond the limit (observe mode) included. */
  readonly issued: number;
  /** Requests refused with 429 in the window (enforce mode). */
  readonly refused_quota: number;
  /** Tokens issued beyond the limit (observe mode). */
  readonly over_limit: number;
}

export interface QuotaDecision {
  readonly outcome: QuotaOutcome;
  readonly window: QuotaWindowState;
}

/**
 * One decision: would the next token be `within`, `exceeded_observed`, or `exceeded`, given the
 * tokens already issued in the window.
 */
export function decideQuota(quota: TokenQuota, issuedSoFar: number): QuotaOutcome {
  if (issuedSoFar < quota.limit) return "within";
  return quota.mode === "observe" ? "exceeded_observed" : "exceeded";
}

/** Tokens left in the window (never negative). */
export function quotaRemaining(quota: TokenQuota, window: QuotaWindowState): number {
  return Math.max(0, quota.limit - window.issued);
}

/** Seconds until the window ends, at least 1 (what `Retry-After` and `RateLimit` `t` carry). */
export function secondsToReset(window: { readonly end: number }, now: number): number {
  return Math.max(1, window.end - now);
}

/**
 * draft-ietf-httpapi-ratelimit-headers: the policy (`q` tokens per `w` seconds) and the state
 * (`r` remaining, `t` seconds to reset) of the quota, on every token response of a quota'd client.
 */
export function rateLimitHeaders(quota: TokenQuota, window: QuotaWindowState, now: number): Record<string, string> {
  return {
    "RateLimit-Policy": `"tokens";q=${quota.limit};w=${quota.window}`,
    RateLimit: `"tokens";r=${quotaRemaining(quota, window)};t=${secondsToReset(window, now)}`,
  };
}

/** The `error_description` detail of a 429: the quota and when it resets. */
export function quotaExceededDetail(quota: TokenQuota, window: QuotaWindowState): string {
  return `${quota.limit} tokens per ${quota.window} s, resets at ${new Date(window.end * 1000).toISOString()}`;
}

/** An hour of usage: the start of the UTC hour that holds `now` (seconds). */
export const HOUR_SECONDS = 3600;
export const hourOf = (now: number): number => Math.floor(now / HOUR_SECONDS) * HOUR_SECONDS;

/** The usage report covers the last 24 hours, the current one included. */
export const USAGE_HOURS = 24;

/** Count one issued token of `clientId` at `now` (seconds) in the object that records the decision. */
export interface UsageCount {
  readonly clientId: string;
  readonly now: number;
}

/** A count written with a jti commit, which can be taken back if the token is not issued after all. */
export interface CountedUse {
  undo(): Promise<void>;
}
