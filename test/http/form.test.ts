/**
 * parseOAuthForm (RFC 6749 §3.2, SPEC §3 rule 1): one value per parameter, empty means omitted.
 * Mirrors src/http/form.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formPairs, parseOAuthForm } from "../../src/http/form.js";
import { outcome } from "../support/reason.js";

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

describe("formPairs", () => {
  const reference = (body: string) => [...new URLSearchParams(body)];

  it("reads bodies exactly as URLSearchParams does (property, seeded)", () => {
    // Bodies from the characters that matter to the format: separators, '+', '%' with and
    // without hex digits, a leading '?', ASCII, non-ASCII and characters that encode to several bytes.
    const piece = fc.constantFrom("&", "=", "+", "%", "%2", "%20", "%2B", "%26", "%3D", "%C3%A9", "%C3", "%E2%82%AC", "%ED%A0%80", "%ZZ", "?", "a", "b", "client_id", "é", "€", "😀", " ", "%00", "%25");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
        const body = pieces.join("");
        expect([...formPairs(body)], body).toEqual(reference(body));
      }),
      { seed: 20261127, numRuns: 2000 },
    );
  });

  it("agrees on a real token request and on the edge cases", () => {
    const request = "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.c2ln&scope=read+write";
    for (const body of [request, "", "&&", "=", "a", "a=", "=b", "?a=b", "a=b=c", "a=%", "a=%4", "a=%41", "a=%C3%A9", "a=%C3", "a+b=c+d", "%2B=%2b"]) {
      expect([...formPairs(body)], body).toEqual(reference(body));
    }
  });
});
