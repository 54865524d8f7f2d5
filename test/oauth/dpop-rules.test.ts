import { describe, expect, it } from "vitest";
import { DPOP_NONCE_WINDOW_SECONDS as NONCE_WINDOW_SECONDS, normalizeHtu } from "../../src/core/dpop.js";
import { loadDpopNonces } from "../../src/oauth/dpop-nonce.js";

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

describe("stateless DPoP nonces (RFC 9449 §8)", () => {
  const key = "hRgW4mDnYY8YqD-9vScKeDD9Kwkwl4oJIG2_xcAM6FQ";
  const start = 1_800_000_000 - (1_800_000_000 % NONCE_WINDOW_SECONDS);

  it("are accepted in their window and the next, and refused after", async () => {
    const nonces = await loadDpopNonces(key);
    const nonce = await nonces.issue(start + 10);
    expect(await nonces.isFresh(nonce, start + 10)).toBe(true);
    expect(await nonces.isFresh(nonce, start + NONCE_WINDOW_SECONDS + 10)).toBe(true);
    expect(await nonces.isFresh(nonce, start + 2 * NONCE_WINDOW_SECONDS)).toBe(false);
    // Not before it was issued either.
    expect(await nonces.isFresh(nonce, start - 1)).toBe(false);
  });

  it("are the same for every caller within a window, and differ between windows", async () => {
    const nonces = await loadDpopNonces(key);
    expect(await nonces.issue(start + 1)).toBe(await nonces.issue(start + NONCE_WINDOW_SECONDS - 1));
    expect(await nonces.issue(start)).not.toBe(await nonces.issue(start + NONCE_WINDOW_SECONDS));
  });

  it("are refused when tampered with or made under another key", async () => {
    const nonces = await loadDpopNonces(key);
    const other = await loadDpopNonces("another-key-value-0123456789abcdefghijklmno");
    const nonce = await nonces.issue(start);
    expect(await other.isFresh(nonce, start)).toBe(false);
    const tampered = nonce.slice(0, -2) + (nonce.endsWith("AA") ? "BB" : "AA");
    expect(await nonces.isFresh(tampered, start)).toBe(false);
    for (const junk of ["", "***", "AAAA", "x".repeat(100)]) expect(await nonces.isFresh(junk, start)).toBe(false);
  });
});
