import { describe, expect, it } from "vitest";
import { DPOP_NONCE_WINDOW_SECONDS as NONCE_WINDOW_SECONDS } from "../../src/core/dpop.js";
import { loadDpopNonces } from "../../src/oauth/dpop-nonce.js";

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
