/**
 * verifyCompactJws: the one "import a JWK and verify a compact JWS" helper shared by client
 * assertions, federated assertions and DPoP proofs. Each outcome is what its callers map to a rule.
 */
import { CompactSign, exportJWK, generateKeyPair, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { decodeJsonSegment, verifyCompactJws } from "../../src/oauth/jws.js";

const encoder = new TextEncoder();

async function es256(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

const sign = (payload: string, key: CryptoKey | Uint8Array, alg = "ES256") =>
  new CompactSign(encoder.encode(payload)).setProtectedHeader({ alg }).sign(key);

describe("verifyCompactJws", () => {
  it("yields the claims of the first candidate that verifies, skipping ones that do not", async () => {
    const [a, b] = [await es256(), await es256()];
    const jws = await sign(JSON.stringify({ sub: "x" }), b.privateKey);
    expect(await verifyCompactJws(jws, "ES256", [a.jwk, b.jwk])).toEqual({ ok: true, claims: { sub: "x" } });
    expect(await verifyCompactJws(jws, "ES256", [a.jwk])).toEqual({ ok: false, problem: "signature_invalid" });
  });

  it("skips a candidate that cannot be imported, and says so when none could", async () => {
    const b = await es256();
    const jws = await sign("{}", b.privateKey);
    const broken: JWK = { kty: "EC", crv: "P-256", x: "AA", y: "AA" };
    expect(await verifyCompactJws(jws, "ES256", [broken, b.jwk])).toEqual({ ok: true, claims: {} });
    expect(await verifyCompactJws(jws, "ES256", [broken])).toEqual({ ok: false, problem: "key_invalid" });
    expect(await verifyCompactJws(jws, "ES256", [])).toEqual({ ok: false, problem: "key_invalid" });
  });

  it("verifies only the alg it is given", async () => {
    const b = await es256();
    const jws = await sign("{}", b.privateKey);
    expect(await verifyCompactJws(jws, "ES384", [b.jwk])).toMatchObject({ ok: false });
  });

  it("takes HMAC secrets as bytes, in order (current, then previous)", async () => {
    const current = encoder.encode("c".repeat(32));
    const previous = encoder.encode("p".repeat(32));
    const jws = await sign(JSON.stringify({ jti: "1" }), previous, "HS256");
    expect(await verifyCompactJws(jws, "HS256", [current, previous])).toEqual({ ok: true, claims: { jti: "1" } });
    expect(await verifyCompactJws(jws, "HS256", [current])).toEqual({ ok: false, problem: "signature_invalid" });
  });

  it("refuses a signed payload that is not a JSON object", async () => {
    const b = await es256();
    for (const payload of ["[1]", "null", "not json", "1"]) {
      expect(await verifyCompactJws(await sign(payload, b.privateKey), "ES256", [b.jwk])).toEqual({ ok: false, problem: "payload_invalid" });
    }
  });
});

describe("decodeJsonSegment", () => {
  it("decodes a JSON object segment and nothing else", () => {
    expect(decodeJsonSegment("eyJhIjoxfQ")).toEqual({ a: 1 });
    expect(decodeJsonSegment("WzFd")).toBeUndefined(); // [1]
    expect(decodeJsonSegment("bm90IGpzb24")).toBeUndefined(); // not json
    expect(decodeJsonSegment("!!")).toBeUndefined();
  });
});
