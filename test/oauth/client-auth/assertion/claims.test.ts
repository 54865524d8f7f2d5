/**
 * checkAssertionClaims (SPEC §3 rules 6-8 and the shape of 10) with an injected `now`: the exact
 * edges of the clock skew and of ASSERTION_MAX_LIFETIME.
 */
import { describe, expect, it } from "vitest";
import { checkAssertionClaims, type ClaimRules } from "../../../../src/oauth/client-auth/assertion.js";
import { outcome } from "../../../support/reason.js";

const NOW = 1_800_000_000;
const SKEW = 15;
const MAX = 300;
const ISSUER = "https://issuer.test";
const TOKEN_URL = `${ISSUER}/oauth2/token`;
const CLIENT = "client-a";

const rules = (overrides: Partial<ClaimRules> = {}): ClaimRules => ({
  now: NOW,
  clockSkewSeconds: SKEW,
  maxLifetimeSeconds: MAX,
  acceptedAudiences: [ISSUER, TOKEN_URL],
  ...overrides,
});

/** Valid claims with overrides (undefined deletes a claim). */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { iss: CLIENT, sub: CLIENT, aud: TOKEN_URL, iat: NOW, exp: NOW + 60, jti: "jti-1" };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

const check = (overrides: Record<string, unknown>, ruleOverrides: Partial<ClaimRules> = {}) =>
  outcome(() => checkAssertionClaims(claims(overrides), CLIENT, rules(ruleOverrides)));

describe("valid claims", () => {
  it("yields the jti and exp to consume", () => {
    expect(checkAssertionClaims(claims(), CLIENT, rules())).toEqual({ jti: "jti-1", exp: NOW + 60 });
  });

  it("accepts a non-integer NumericDate (RFC 7519 §2)", () => {
    expect(check({ exp: NOW + 60.5, iat: NOW - 0.5 })).toBe("ok");
  });
});

describe("rule 8 edges: exp", () => {
  it("exp is expired exactly at now - skew, valid one second later", () => {
    expect(check({ iat: NOW - 100, exp: NOW - SKEW })).toBe("invalid_client/assertion_expired");
    expect(check({ iat: NOW - 100, exp: NOW - SKEW + 1 })).toBe("ok");
  });

  it("exp may be at most now + max lifetime + skew", () => {
    expect(check({ iat: undefined, exp: NOW + MAX + SKEW })).toBe("ok");
    expect(check({ iat: undefined, exp: NOW + MAX + SKEW + 1 })).toBe("invalid_client/assertion_exp_too_far");
  });

  it("exp is required and numeric", () => {
    expect(check({ exp: undefined })).toBe("invalid_client/assertion_exp_missing");
    expect(check({ exp: `${NOW + 60}` })).toBe("invalid_client/assertion_exp_missing");
    expect(check({ exp: null })).toBe("invalid_client/assertion_exp_missing");
  });

  it("follows the configured skew and max lifetime", () => {
    expect(check({ iat: NOW - 10, exp: NOW }, { clockSkewSeconds: 0 })).toBe("invalid_client/assertion_expired");
    expect(check({ iat: NOW - 10, exp: NOW + 1 }, { clockSkewSeconds: 0 })).toBe("ok");
    expect(check({ iat: undefined, exp: NOW + 61 }, { clockSkewSeconds: 0, maxLifetimeSeconds: 60 })).toBe("invalid_client/assertion_exp_too_far");
  });
});

describe("rule 8 edges: iat", () => {
  it("iat may be at most skew in the future", () => {
    expect(check({ iat: NOW + SKEW, exp: NOW + 60 })).toBe("ok");
    expect(check({ iat: NOW + SKEW + 1, exp: NOW + 60 })).toBe("invalid_client/assertion_iat_future");
  });

  it("exp - iat may be at most the max lifetime", () => {
    expect(check({ iat: NOW - 100, exp: NOW - 100 + MAX })).toBe("ok");
    expect(check({ iat: NOW - 101, exp: NOW - 100 + MAX })).toBe("invalid_client/assertion_lifetime_too_long");
  });

  it("exp must be after iat", () => {
    expect(check({ iat: NOW + 5, exp: NOW + 5 })).toBe("invalid_client/assertion_exp_before_iat");
    expect(check({ iat: NOW + 5, exp: NOW + 4 })).toBe("invalid_client/assertion_exp_before_iat");
    expect(check({ iat: NOW + 5, exp: NOW + 6 })).toBe("ok");
  });

  it("iat is optional but numeric when present", () => {
    expect(check({ iat: undefined })).toBe("ok");
    expect(check({ iat: "now" })).toBe("invalid_client/assertion_iat_invalid");
  });
});

describe("rule 8 edges: nbf", () => {
  it("nbf may be at most skew in the future", () => {
    expect(check({ nbf: NOW + SKEW })).toBe("ok");
    expect(check({ nbf: NOW + SKEW + 1 })).toBe("invalid_client/assertion_nbf_future");
    expect(check({ nbf: NOW - 1000 })).toBe("ok");
  });

  it("nbf must be numeric when present", () => {
    expect(check({ nbf: true })).toBe("invalid_client/assertion_nbf_invalid");
  });
});

describe("rule 6: iss, sub, client_id", () => {
  it("iss and sub must be the client_id, exactly", () => {
    expect(check({ iss: "client-b" })).toBe("invalid_client/assertion_iss_mismatch");
    expect(check({ iss: "CLIENT-A" })).toBe("invalid_client/assertion_iss_mismatch");
    expect(check({ iss: undefined })).toBe("invalid_client/assertion_iss_mismatch");
    expect(check({ sub: "client-b" })).toBe("invalid_client/assertion_sub_mismatch");
    expect(check({ sub: [CLIENT] })).toBe("invalid_client/assertion_sub_mismatch");
  });
});

describe("rule 7: aud", () => {
  it("accepts each accepted value as a string or a one-element array", () => {
    for (const aud of [ISSUER, TOKEN_URL, [ISSUER], [TOKEN_URL]]) expect(check({ aud })).toBe("ok");
  });

  it("compares exact strings", () => {
    for (const aud of [`${TOKEN_URL}/`, `${ISSUER}/`, TOKEN_URL.toUpperCase(), ` ${ISSUER}`]) {
      expect(check({ aud })).toBe("invalid_client/assertion_aud_invalid");
    }
  });

  it("refuses a missing or empty aud", () => {
    for (const aud of [undefined, null, []]) expect(check({ aud })).toBe("invalid_client/assertion_aud_missing");
  });

  it("an array must hold one accepted value and nothing else", () => {
    expect(check({ aud: [TOKEN_URL, "https://other.test"] })).toBe("invalid_client/assertion_aud_extra_values");
    expect(check({ aud: [TOKEN_URL, TOKEN_URL] })).toBe("invalid_client/assertion_aud_extra_values");
    expect(check({ aud: ["https://other.test"] })).toBe("invalid_client/assertion_aud_invalid");
    expect(check({ aud: [42] })).toBe("invalid_client/assertion_aud_invalid");
    expect(check({ aud: { 0: TOKEN_URL } })).toBe("invalid_client/assertion_aud_invalid");
  });

  it("strict mode is just a narrower accepted list", () => {
    expect(check({ aud: TOKEN_URL }, { acceptedAudiences: [ISSUER] })).toBe("invalid_client/assertion_aud_invalid");
    expect(check({ aud: ISSUER }, { acceptedAudiences: [ISSUER] })).toBe("ok");
  });
});

describe("rule 10 shape: jti", () => {
  it("is a non-empty string of at most 256 characters", () => {
    expect(check({ jti: "j".repeat(256) })).toBe("ok");
    expect(check({ jti: "j".repeat(257) })).toBe("invalid_client/assertion_jti_too_long");
    expect(check({ jti: undefined })).toBe("invalid_client/assertion_jti_missing");
    expect(check({ jti: "" })).toBe("invalid_client/assertion_jti_missing");
    expect(check({ jti: 7 })).toBe("invalid_client/assertion_jti_missing");
  });
});

describe("order", () => {
  it("reports the first broken rule in the fixed order: iss, sub, client_id, aud, exp, iat, nbf, jti", () => {
    const broken = { iss: "x", sub: "x", aud: "x", exp: NOW - 1000, nbf: NOW + 1000, jti: undefined };
    expect(check(broken)).toBe("invalid_client/assertion_iss_mismatch");
    expect(check({ ...broken, iss: CLIENT })).toBe("invalid_client/assertion_sub_mismatch");
    expect(check({ ...broken, iss: CLIENT, sub: CLIENT })).toBe("invalid_client/assertion_aud_invalid");
    expect(check({ ...broken, iss: CLIENT, sub: CLIENT, aud: ISSUER })).toBe("invalid_client/assertion_expired");
    expect(check({ ...broken, iss: CLIENT, sub: CLIENT, aud: ISSUER, exp: NOW + 60 })).toBe("invalid_client/assertion_nbf_future");
    expect(check({ ...broken, iss: CLIENT, sub: CLIENT, aud: ISSUER, exp: NOW + 60, nbf: NOW })).toBe("invalid_client/assertion_jti_missing");
  });
});
