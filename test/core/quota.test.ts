/**
 * SPEC §11 quota rules as pure functions, edges pinned at ±1: epoch-aligned windows, the decision at
 * the limit, the RateLimit headers and Retry-After.
 */
import { describe, expect, it } from "vitest";
import { decideQuota, hourOf, quotaExceededDetail, quotaRemaining, quotaWindow, rateLimitHeaders, secondsToReset, type TokenQuota } from "../../src/core/quota.js";

const quota = (limit: number, mode: TokenQuota["mode"] = "enforce"): TokenQuota => ({ limit, window: 3600, mode });

describe("quota windows", () => {
  it("are fixed and aligned to the Unix epoch: window k covers [k·window, (k+1)·window)", () => {
    expect(quotaWindow(3600, 7199)).toEqual({ start: 3600, end: 7200 });
    expect(quotaWindow(3600, 7200)).toEqual({ start: 7200, end: 10800 });
    expect(quotaWindow(3600, 7201)).toEqual({ start: 7200, end: 10800 });
    expect(quotaWindow(60, 0)).toEqual({ start: 0, end: 60 });
    expect(quotaWindow(86_400, 1_800_000_000)).toEqual({ start: 1_799_971_200, end: 1_800_057_600 });
  });

  it("usage hours start on the UTC hour", () => {
    expect(hourOf(3599)).toBe(0);
    expect(hourOf(3600)).toBe(3600);
  });
});

describe("decideQuota", () => {
  it("enforce: within up to limit - 1 issued, exceeded from limit on", () => {
    expect(decideQuota(quota(3), 2)).toBe("within");
    expect(decideQuota(quota(3), 3)).toBe("exceeded");
    expect(decideQuota(quota(3), 4)).toBe("exceeded");
    expect(decideQuota(quota(1), 0)).toBe("within");
  });

  it("observe: never refuses, marks the tokens beyond the limit", () => {
    expect(decideQuota(quota(3, "observe"), 2)).toBe("within");
    expect(decideQuota(quota(3, "observe"), 3)).toBe("exceeded_observed");
  });
});

describe("RateLimit headers and Retry-After", () => {
  const window = { start: 3600, end: 7200, issued: 2, refused_quota: 0, over_limit: 0 };
  it("name the policy and the state (draft-ietf-httpapi-ratelimit-headers)", () => {
    expect(rateLimitHeaders(quota(5), window, 7000)).toEqual({ "RateLimit-Policy": '"tokens";q=5;w=3600', RateLimit: '"tokens";r=3;t=200' });
  });
  it("never report negative remaining (observe mode beyond the limit) nor a reset under 1 s", () => {
    expect(quotaRemaining(quota(1), { ...window, issued: 4 })).toBe(0);
    expect(secondsToReset(window, 7199)).toBe(1);
    expect(secondsToReset(window, 7200)).toBe(1);
  });
  it("the 429 description names the quota and when it resets", () => {
    expect(quotaExceededDetail(quota(5), window)).toBe("5 tokens per 3600 s, resets at 1970-01-01T02:00:00.000Z");
  });
});
