/**
 * rsaModulusBits and the algorithm families (SPEC §3 rules 3-4).
 */
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import {
  CLIENT_SECRET_JWT_ALGS,
  isAsymmetricAlg,
  isHmacAlg,
  PRIVATE_KEY_JWT_ALGS,
  rsaModulusBits,
} from "../../src/core/algorithms.js";

async function modulusOf(bits: number): Promise<string> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["verify", "sign"],
  )) as CryptoKeyPair;
  return ((await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey).n!;
}

describe("rsaModulusBits", () => {
  it("measures real keys", async () => {
    expect(rsaModulusBits(await modulusOf(2048))).toBe(2048);
    expect(rsaModulusBits(await modulusOf(1024))).toBe(1024);
    expect(rsaModulusBits(await modulusOf(3072))).toBe(3072);
  });

  it("counts bits, not bytes: a 256-byte modulus with a small top byte is under 2048 bits", () => {
    const bytes = new Uint8Array(256).fill(0xff);
    bytes[0] = 0x7f;
    expect(rsaModulusBits(base64url.encode(bytes))).toBe(2047);
    bytes[0] = 0x01;
    expect(rsaModulusBits(base64url.encode(bytes))).toBe(2041);
  });

  it("ignores leading zero octets (they cannot pad a weak key past the check)", async () => {
    const weak = base64url.decode(await modulusOf(1024));
    const padded = new Uint8Array(256);
    padded.set(weak, 256 - weak.length);
    expect(rsaModulusBits(base64url.encode(padded))).toBe(1024);
  });

  it("is 0 for nothing usable", () => {
    expect(rsaModulusBits("")).toBe(0);
    expect(rsaModulusBits("AAAA")).toBe(0);
    expect(rsaModulusBits("!!not base64url!!")).toBe(0);
  });
});

describe("algorithm families", () => {
  it("asymmetric and HMAC algorithms never overlap, and none is neither", () => {
    for (const alg of PRIVATE_KEY_JWT_ALGS) expect([isAsymmetricAlg(alg), isHmacAlg(alg)]).toEqual([true, false]);
    for (const alg of CLIENT_SECRET_JWT_ALGS) expect([isAsymmetricAlg(alg), isHmacAlg(alg)]).toEqual([false, true]);
    for (const alg of ["none", "None", "hs256", "RSA-OAEP", "dir", "", undefined, 256]) {
      expect([isAsymmetricAlg(alg), isHmacAlg(alg)]).toEqual([false, false]);
    }
  });
});
