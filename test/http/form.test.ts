/**
 * parseOAuthForm (RFC 6749 §3.2, SPEC §3 rule 1): one value per parameter, empty means omitted.
 * Mirrors src/http/form.ts.
 */
import { describe, expect, it } from "vitest";
import { parseOAuthForm } from "../../src/http/form.js";
import { outcome } from "../oauth/reason.js";

describe("parseOAuthForm", () => {
  it("decodes a urlencoded body", () => {
    const form = parseOAuthForm("grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example%2Fv1");
    expect(Object.fromEntries(form)).toEqual({ grant_type: "client_credentials", scope: "read write", resource: "https://api.example/v1" });
  });

  it("treats a parameter without a value as omitted", () => {
    expect(parseOAuthForm("scope=&client_id").has("scope")).toBe(false);
    expect(parseOAuthForm("scope=&client_id").has("client_id")).toBe(false);
  });

  it("refuses any parameter sent twice, naming it", () => {
    for (const body of ["scope=a&scope=b", "scope=a&scope=a", "scope=&scope=b", "grant_type=x&grant%5Ftype=y", "a=1&b=2&a=3"]) {
      expect(outcome(() => parseOAuthForm(body)), body).toBe("invalid_request/form_duplicate_parameter");
    }
    expect(() => parseOAuthForm("client_assertion=a&client_assertion=b")).toThrow(/'client_assertion' appears more than once/);
  });

  it("keeps a long or odd duplicated name out of the description", () => {
    try {
      parseOAuthForm(`${"n".repeat(500)}=1&${"n".repeat(500)}=2`);
      expect.unreachable();
    } catch (err) {
      expect((err as { description: string }).description.length).toBeLessThan(120);
    }
  });

  it("accepts an empty body (the endpoint then reports what is missing)", () => {
    expect(parseOAuthForm("").size).toBe(0);
  });
});
