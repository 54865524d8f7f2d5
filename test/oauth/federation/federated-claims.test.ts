/** The claim rules of federated assertions (SPEC §9) with an injected `now`: every edge at ±1. */
import { describe, expect, it } from "vitest";
import type { FederatedCredential, TrustedIssuerRecord } from "../../../src/core/federation.js";
import { credentialAudiences } from "../../../src/oauth/federation/federated-assertion.js";
import { checkCredentialClaims, checkIssuerClaims } from "../../../src/oauth/federation/federated-claims.js";
import { outcome } from "../reason.js";

const NOW = 1_800_000_000;
const SKEW = 15;
const CAP = 3600;
const SERVER = "https://issuer.test";
const ISS = "https://token.actions.githubusercontent.com";

const issuer = (overrides: Partial<TrustedIssuerRecord> = {}): TrustedIssuerRecord => ({
  issuer: ISS, discovery: true, allowed_algs: ["RS256"], max_token_lifetime: CAP, shared: true, immutable_claims: ["repository_id"], jti_policy: "single_use", created_at: 0, updated_at: 0, ...overrides,
});
const claims = (overrides: Record<string, unknown> = {}) => {
  const base: Record<string, unknown> = { iss: ISS, sub: "repo:acme/api:ref:refs/heads/main", aud: SERVER, iat: NOW, nbf: NOW, exp: NOW + 300, jti: "j", repository_id: "123" };
  for (const [k, v] of Object.entries(overrides)) v === undefined ? delete base[k] : (base[k] = v);
  return base;
};
const issuerRule = (overrides: Record<string, unknown>, record = issuer()) => outcome(() => checkIssuerClaims(claims(overrides), record, { now: NOW, clockSkewSeconds: SKEW }));
const credential: FederatedCredential = { name: "c", issuer: ISS, subject: "repo:acme/api:ref:refs/heads/main", claims: { repository_id: "123" } };
const credentialRule = (overrides: Record<string, unknown>, c: FederatedCredential = credential) => outcome(() => checkCredentialClaims(claims(overrides), c, credentialAudiences(c, SERVER)));

describe("issuer rules", () => {
  it("valid claims yield exp, jti and subject", () => {
    expect(checkIssuerClaims(claims(), issuer(), { now: NOW, clockSkewSeconds: SKEW })).toEqual({ exp: NOW + 300, jti: "j", subject: "repo:acme/api:ref:refs/heads/main" });
  });
  it("iss exact; a JWT-SVID without iss only for a spiffe:// issuer", () => {
    expect(issuerRule({ iss: `${ISS}/` })).toBe("invalid_client/federated_iss_mismatch");
    expect(issuerRule({ iss: undefined })).toBe("invalid_client/federated_iss_mismatch");
    expect(issuerRule({ iss: undefined, jti: undefined }, issuer({ issuer: "spiffe://example.org", jti_policy: "reuse" }))).toBe("ok");
  });
  it("exp: expired at now - skew, ok one second later; too far past now + cap + skew", () => {
    expect(issuerRule({ iat: NOW - 100, nbf: undefined, exp: NOW - SKEW })).toBe("invalid_client/federated_expired");
    expect(issuerRule({ iat: NOW - 100, nbf: undefined, exp: NOW - SKEW + 1 })).toBe("ok");
    expect(issuerRule({ iat: undefined, exp: NOW + CAP + SKEW })).toBe("ok");
    expect(issuerRule({ iat: undefined, exp: NOW + CAP + SKEW + 1 })).toBe("invalid_client/federated_exp_too_far");
    expect(issuerRule({ exp: undefined })).toBe("invalid_client/federated_exp_missing");
  });
  it("lifetime: exp - iat at most the issuer's cap", () => {
    expect(issuerRule({ iat: NOW - 100, exp: NOW - 100 + CAP })).toBe("ok");
    expect(issuerRule({ iat: NOW - 100, exp: NOW - 100 + CAP + 1 })).toBe("invalid_client/federated_lifetime_too_long");
    expect(issuerRule({ iat: NOW - 100, exp: NOW - 100 + 601 }, issuer({ max_token_lifetime: 600 }))).toBe("invalid_client/federated_lifetime_too_long");
  });
  it("iat and nbf: at most skew in the future", () => {
    expect(issuerRule({ iat: NOW + SKEW })).toBe("ok");
    expect(issuerRule({ iat: NOW + SKEW + 1 })).toBe("invalid_client/federated_iat_future");
    expect(issuerRule({ iat: "now" })).toBe("invalid_client/federated_iat_invalid");
    expect(issuerRule({ iat: NOW + 300 })).toBe("invalid_client/federated_iat_future");
    expect(issuerRule({ iat: NOW, exp: NOW })).toBe("invalid_client/federated_exp_before_iat");
    expect(issuerRule({ nbf: NOW + SKEW })).toBe("ok");
    expect(issuerRule({ nbf: NOW + SKEW + 1 })).toBe("invalid_client/federated_nbf_future");
    expect(issuerRule({ nbf: "soon" })).toBe("invalid_client/federated_nbf_invalid");
  });
  it("jti: required and bounded for single_use issuers, ignored for reuse", () => {
    expect(issuerRule({ jti: undefined })).toBe("invalid_client/federated_jti_missing");
    expect(issuerRule({ jti: "" })).toBe("invalid_client/federated_jti_missing");
    expect(issuerRule({ jti: "j".repeat(256) })).toBe("ok");
    expect(issuerRule({ jti: "j".repeat(257) })).toBe("invalid_client/federated_jti_too_long");
    expect(issuerRule({ jti: undefined }, issuer({ jti_policy: "reuse" }))).toBe("ok");
    expect(checkIssuerClaims(claims(), issuer({ jti_policy: "reuse" }), { now: NOW, clockSkewSeconds: SKEW }).jti).toBeUndefined();
  });
});

describe("credential rules", () => {
  it("aud contains the credential's audience, exactly; the issuer identifier also with one trailing / (README Choices)", () => {
    expect(credentialRule({})).toBe("ok");
    expect(credentialRule({ aud: ["https://x.example", SERVER] })).toBe("ok");
    expect(credentialRule({ aud: `${SERVER}/` })).toBe("ok");
    expect(credentialRule({ aud: [`${SERVER}/`] })).toBe("ok");
    expect(credentialRule({ aud: `${SERVER}//` })).toBe("invalid_client/federated_aud_mismatch");
    expect(credentialRule({ aud: SERVER.toUpperCase() })).toBe("invalid_client/federated_aud_mismatch");
    expect(credentialRule({ aud: undefined })).toBe("invalid_client/federated_aud_mismatch");
    expect(credentialRule({ aud: { [SERVER]: true } })).toBe("invalid_client/federated_aud_mismatch");
  });
  it("sub equal, or matching the pattern", () => {
    expect(credentialRule({ sub: "repo:acme/api:ref:refs/heads/dev" })).toBe("invalid_client/federated_sub_mismatch");
    const pattern = { ...credential, subject: undefined, subject_pattern: "repo:acme/*:ref:refs/heads/main" };
    expect(credentialRule({ sub: "repo:acme/x:ref:refs/heads/main" }, pattern)).toBe("ok");
    expect(credentialRule({ sub: "repo:acme/x/y:ref:refs/heads/main" }, pattern)).toBe("invalid_client/federated_sub_pattern_mismatch");
    expect(credentialRule({ sub: 42 }, pattern)).toBe("invalid_client/federated_sub_pattern_mismatch");
  });
  it("pinned claims compare as strings and name the claim, never the value", () => {
    expect(credentialRule({ repository_id: 123 })).toBe("ok");
    expect(credentialRule({ repository_id: "124" })).toBe("invalid_client/federated_claim_mismatch");
    expect(credentialRule({ repository_id: ["123"] })).toBe("invalid_client/federated_claim_mismatch");
    expect(credentialRule({ repository_id: undefined })).toBe("invalid_client/federated_claim_mismatch");
    try {
      checkCredentialClaims(claims({ repository_id: "124" }), credential, [SERVER]);
    } catch (err) {
      expect((err as Error).message).toMatch(/: repository_id$/);
      expect((err as Error).message).not.toContain("123");
    }
  });
});
