/**
 * core/time-claims.js, the one exp/iat/nbf check: the token shape is pinned at ±1 through its
 * callers (test/oauth/client-auth/assertion-claims.test.ts, test/oauth/federation/federated-claims.test.ts);
 * here the proof shape (an iat window, RFC 9449 §11.1) and what each shape does not read.
 */
import { describe, expect, it } from "vitest";
import { checkTimeClaims } from "../../src/core/time-claims.js";

const NOW = 1_800_000_000;
const SKEW = 15;
const WINDOW = 60;

describe("a proof: iat within the window plus skew, either way", () => {
  const proof = (claims: Record<string, unknown>) => checkTimeClaims(claims, { now: NOW, clockSkewSeconds: SKEW, iatWindowSeconds: WINDOW });
  it("pins both edges at ±1", () => {
    expect(proof({ iat: NOW - WINDOW - SKEW })).toBeUndefined();
    expect(proof({ iat: NOW - WINDOW - SKEW - 1 })).toBe("iat_too_old");
    expect(proof({ iat: NOW + WINDOW + SKEW })).toBeUndefined();
    expect(proof({ iat: NOW + WINDOW + SKEW + 1 })).toBe("iat_future");
  });
  it("requires iat as a number, and reads no exp or nbf", () => {
    for (const iat of [undefined, "1800000000", Number.NaN, Number.POSITIVE_INFINITY]) expect(proof({ iat })).toBe("iat_invalid");
    expect(proof({ iat: NOW, exp: NOW - 1000, nbf: NOW + 1000 })).toBeUndefined();
  });
});

describe("a token: exp required and capped, iat and nbf when present", () => {
  const token = (claims: Record<string, unknown>) => checkTimeClaims(claims, { now: NOW, clockSkewSeconds: SKEW, maxLifetimeSeconds: 300 });
  it("checks in a fixed order: exp first, then iat, then nbf", () => {
    expect(token({ iat: "x", nbf: "x" })).toBe("exp_missing");
    expect(token({ exp: NOW + 60, iat: "x", nbf: "x" })).toBe("iat_invalid");
    expect(token({ exp: NOW + 60, iat: NOW, nbf: "x" })).toBe("nbf_invalid");
    expect(token({ exp: NOW + 60 })).toBeUndefined();
  });
});
