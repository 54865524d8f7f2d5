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
  });

  it("a SPIFFE trust domain admits only its own SPIFFE IDs", () => {
    const td = issuer({ issuer: "spiffe://example.org", preset: "spiffe", discovery: undefined, spiffe_bundle_endpoint: "https://b.example/" });
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://example.org/ns/prod/sa/api" }), td)).toBeUndefined();
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://evil.org/ns/prod/sa/api" }), td)).toBe("subject");
    expect(field(credential({ issuer: td.issuer, subject: "spiffe://example.org.evil/x" }), td)).toBe("subject");
  });

  // Issue 18 item 1: the rules are judged per kind of issuer, after the part every subject of that issuer shares.
  describe("per kind of issuer (issue 18)", () => {
    const why = (c: FederatedCredential, i = issuer()) => credentialProblem(c, i, SERVER);
    const pattern = (subject_pattern: string, i = issuer()) => why(credential({ issuer: i.issuer, subject: undefined, subject_pattern }), i);
    const k8s = issuer({ issuer: "https://k8s.example", preset: "kubernetes", jti_policy: "reuse" });
    const td = issuer({ issuer: "spiffe://example.org", preset: "spiffe", discovery: undefined, spiffe_bundle_endpoint: "https://b.example/" });
    const githubPinned = (subject_pattern: string) => why(credential({ issuer: github.issuer, subject: undefined, subject_pattern, claims: { repository_id: "1" } }), github);

    it("Kubernetes: a literal namespace and service account, whatever the issuer was registered as", () => {
      for (const i of [k8s, issuer()]) {
        expect(pattern("system:serviceaccount:*:deployer", i)).toEqual(["subject_pattern", expect.stringMatching(/literal namespace and service account/)]);
        expect(pattern("system:serviceaccount:prod-*:deployer", i)?.[1]).toMatch(/literal namespace and service account/);
        expect(pattern("system:serviceaccount:prod:deploy-*", i)?.[1]).toMatch(/literal namespace and service account/);
        expect(pattern("system:serviceaccount:prod:deployer", i)).toBeUndefined();
      }
      expect(why(credential({ issuer: k8s.issuer, subject: "prod:deployer" }), k8s)).toEqual(["subject", expect.stringMatching(/system:serviceaccount:<namespace>:<service account>/)]);
    });

    it("the default service-account rule applies to patterns too: *:*:*:default", () => {
      expect(pattern("*:*:*:default")).toEqual(["subject_pattern", expect.stringMatching(/default service account/)]);
      expect(pattern("*:*:*:def*")?.[1]).toMatch(/default service account/);
      expect(pattern("*:*:*:default", k8s)?.[0]).toBe("subject_pattern");
      expect(pattern("*:*:*:deployer")?.[1]).toMatch(/only wildcards|literal/);
    });

    it("SPIFFE: a literal first path segment after the trust domain", () => {
      expect(pattern("spiffe://example.org/*/*/*", td)).toEqual(["subject_pattern", expect.stringMatching(/only wildcards after spiffe:\/\/example\.org\//)]);
      expect(pattern("spiffe://example.org/*/prod/sa/api", td)).toEqual(["subject_pattern", expect.stringMatching(/literal first path segment/)]);
      expect(pattern("spiffe://example.org/n*/prod/*", td)?.[1]).toMatch(/literal first path segment/);
      expect(pattern("spiffe://example.org/ns/prod/sa/*", td)).toBeUndefined();
      expect(pattern("spiffe://example.org/*/*", issuer())?.[1]).toMatch(/only wildcards after spiffe:\/\/example\.org\//);
    });

    it('"only wildcards" is judged after the fixed prefix of GitHub and GitLab subjects', () => {
      expect(githubPinned("repo:*")).toEqual(["subject_pattern", expect.stringMatching(/only wildcards after repo:/)]);
      expect(githubPinned("repo:*/*:*")?.[1]).toMatch(/only wildcards after repo:/);
      expect(githubPinned("repo:acme/*:*")).toBeUndefined();
      const gitlab = issuer({ issuer: "https://gitlab.com", preset: "gitlab", shared: true, immutable_claims: ["project_id"] });
      expect(why(credential({ issuer: gitlab.issuer, subject: undefined, subject_pattern: "project_path:*/*:ref_type:*:ref:*", claims: { project_id: "1" } }), gitlab)?.[1]).toMatch(
        /only wildcards after project_path:/,
      );
    });
  });
});
