import { describe, expect, it } from "vitest";
import { isWildcardsOnly, subjectMatchesPattern } from "../../../src/oauth/federation/subject-pattern.js";

describe("subject_pattern: * never crosses : or /", () => {
  const pattern = "repo:acme/*:ref:refs/heads/main";
  it("matches within one segment only", () => {
    expect(subjectMatchesPattern(pattern, "repo:acme/x:ref:refs/heads/main")).toBe(true);
    expect(subjectMatchesPattern(pattern, "repo:acme/x/y:ref:refs/heads/main")).toBe(false);
    expect(subjectMatchesPattern(pattern, "repo:acme/x:environment:prod:ref:refs/heads/main")).toBe(false);
    expect(subjectMatchesPattern(pattern, "repo:acme/x:environment:prod")).toBe(false);
    expect(subjectMatchesPattern(pattern, "repo:acme/:ref:refs/heads/main")).toBe(true);
    expect(subjectMatchesPattern(pattern, "repo:evil/x:ref:refs/heads/main")).toBe(false);
  });

  it("globs inside a segment, exact elsewhere", () => {
    expect(subjectMatchesPattern("repo:acme/api-*:ref:refs/heads/main", "repo:acme/api-v2:ref:refs/heads/main")).toBe(true);
    expect(subjectMatchesPattern("repo:acme/api-*:ref:refs/heads/main", "repo:acme/web:ref:refs/heads/main")).toBe(false);
    expect(subjectMatchesPattern("system:serviceaccount:prod:*", "system:serviceaccount:prod:deployer")).toBe(true);
    expect(subjectMatchesPattern("system:serviceaccount:prod:*", "system:serviceaccount:prod:a:b")).toBe(false);
    expect(subjectMatchesPattern("a*b*c", "aXXbYYc")).toBe(true);
    expect(subjectMatchesPattern("a*b*c", "aXXbYY")).toBe(false);
    expect(subjectMatchesPattern("exact", "exact")).toBe(true);
    expect(subjectMatchesPattern("exact", "exactly")).toBe(false);
  });

  it("stays fast on adversarial input (no regex backtracking)", () => {
    const pattern = `${"*a".repeat(200)}b`;
    expect(subjectMatchesPattern(pattern, "a".repeat(8000))).toBe(false);
  });

  it("knows a pattern of wildcards only", () => {
    for (const p of ["*", "**", "*:*", "*/*:*", ":"]) expect(isWildcardsOnly(p), p).toBe(true);
    for (const p of ["repo:*", "*:acme", "system:serviceaccount:*:*"]) expect(isWildcardsOnly(p), p).toBe(false);
  });
});
