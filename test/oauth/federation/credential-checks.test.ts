/** The registration rules of federated credentials (SPEC §9 "Safe by default"), one by one. */
import { describe, expect, it } from "vitest";
import type { FederatedCredential, TrustedIssuerRecord } from "../../../src/core/federation.js";
import { credentialProblem } from "../../../src/oauth/federation/credential-checks.js";

const SERVER = "https://issuer.test";
const issuer = (overrides: Partial<TrustedIssuerRecord> = {}): TrustedIssuerRecord => ({
  issuer: "https://idp.example",
  discovery: true,
  allowed_algs: ["RS256"],
  max_token_lifetime: 3600,
  shared: false,
  jti_policy: "single_use",
  created_at: 0,
  updated_at: 0,
  ...overrides,
});
const github = issuer({ issuer: "https://token.actions.githubusercontent.com", shared: true, immutable_claims: ["repository_id", "repository_owner_id"] });
const credential = (overrides: Partial<FederatedCredential> = {}): FederatedCredential => ({ name: "c", issuer: "https://idp.example", subject: "workload", ...overrides });
const field = (c: FederatedCredential, i = issuer()) => credentialProblem(c, i, SERVER)?.[0];

describe("federated credential registration rules", () => {
  it("audience must be this server's issuer (or absent)", () => {
    expect(field(credential({ audience: SERVER }))).toBeUndefined();
    expect(field(credential())).toBeUndefined();
    expect(field(credential({ audience: "https://other.example" }))).toBe("audience");
    expect(field(credential({ audience: `${SERVER}/` }))).toBe("audience");
  });

  it("a subject_pattern of wildcards only is refused", () => {
    expect(field(credential({ subject: undefined, subject_pattern: "*:*" }))).toBe("subject_pattern");
    expect(field(credential({ subject: undefined, subject_pattern: "team:*" }))).toBeUndefined();
  });

  it("a shared issuer needs an immutable id pinned, not only names", () => {
    const sub = "repo:acme/api:ref:refs/heads/main";
    expect(field(credential({ issuer: github.issuer, subject: sub }), github)).toBe("claims");
    expect(field(credential({ issuer: github.issuer, subject: sub, claims: { repository: "acme/api" } }), github)).toBe("claims");
    expect(field(credential({ issuer: github.issuer, subject: sub, claims: { repository_id: "123" } }), github)).toBeUndefined();
    expect(field(credential({ issuer: github.issuer, subject: sub, claims: { repository_owner_id: "9" } }), github)).toBeUndefined();
    expect(credentialProblem(credential({ issuer: github.issuer, subject: sub }), github, SERVER)?.[1]).toMatch(/pin repository_id or repository_owner_id/);
  });

  it("a Kubernetes default service account is refused unless explicitly allowed", () => {
    expect(field(credential({ subject: "system:serviceaccount:prod:default" }))).toBe("subject");
    expect(field(credential({ subject: undefined, subject_pattern: "system:serviceaccount:prod:*" }))).toBe("subject_pattern");
    expect(field(credential({ subject: undefined, subject_pattern: "system:serviceaccount:*:def*" }))).toBe("subject_pattern");
    expect(field(credential({ subject: "system:serviceaccount:prod:default", allow_default_service_account: true }))).toBeUndefined();
    expect(field(credential({ subject: "system:serviceaccount:prod:deployer" }))).toBeUndefined();
    expect(field(credential({ subject: undefined, subject_pattern: "system:serviceaccount:prod:deploy-*" }))).toBeUndefined();
  });

  it("a SPIFFE trust domain admits only its own SPIFFE IDs", () => {
    const td = issuer({ issuer: "spiffe://example.org", preset: "spiffe", discovery: undefined, spiffe_bundle_endpoint: "https://b.example/" });
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://example.org/ns/prod/sa/api" }), td)).toBeUndefined();
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://evil.org/ns/prod/sa/api" }), td)).toBe("subject");
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://example.org.evil/x" }), td)).toBe("subject");
  });
});
