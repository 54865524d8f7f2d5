import { describe, expect, it } from "vitest";
import { normalizeHtu } from "../../src/core/dpop.js";

describe("normalizeHtu (RFC 9449 §4.3 item 9, RFC 3986 §6.2.2-6.2.3)", () => {
  const same: [string, string][] = [
    ["https://issuer.test/oauth2/token", "HTTPS://Issuer.TEST/oauth2/token"],
    ["https://issuer.test/oauth2/token", "https://issuer.test:443/oauth2/token"],
    ["http://issuer.test/oauth2/token", "http://issuer.test:80/oauth2/token"],
    ["https://issuer.test/oauth2/token", "https://issuer.test/oauth2/token?query=1#fragment"],
    ["https://issuer.test/oauth2/token", "https://issuer.test/oauth2/./x/../token"],
    ["https://issuer.test/oauth2/token", "https://issuer.test/oauth2/%74oken"],
    ["https://issuer.test/a%2Fb", "https://issuer.test/a%2fb"],
    ["https://issuer.test/", "https://issuer.test"],
  ];
  for (const [a, b] of same) {
    it(`${b} matches ${a}`, () => expect(normalizeHtu(b)).toBe(normalizeHtu(a)));
  }

  const different: [string, string][] = [
    ["https://issuer.test/oauth2/token", "http://issuer.test/oauth2/token"],
    ["https://issuer.test/oauth2/token", "https://issuer.test:8443/oauth2/token"],
    ["https://issuer.test/oauth2/token", "https://issuer.test/oauth2/token/"],
    ["https://issuer.test/oauth2/token", "https://issuer.test/OAUTH2/token"],
    ["https://issuer.test/a%2Fb", "https://issuer.test/a/b"],
  ];
  for (const [a, b] of different) {
    it(`${b} does not match ${a}`, () => expect(normalizeHtu(b)).not.toBe(normalizeHtu(a)));
  }

  it("refuses relative and non-http URLs", () => {
    expect(normalizeHtu("/oauth2/token")).toBeUndefined();
    expect(normalizeHtu("urn:example:token")).toBeUndefined();
    expect(normalizeHtu("ftp://issuer.test/oauth2/token")).toBeUndefined();
  });
});
