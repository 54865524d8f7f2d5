/**
 * parseClientAssertion (SPEC §3 rule 2): compact JWS of at most 8 KiB, never JWE, never `alg: none`;
 * nameAssertionClient: which client an unverified assertion is for (RFC 7523 §3, SPEC §3 rule 6).
 */
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isCanonicalBase64url, nameAssertionClient, parseClientAssertion } from "../../../src/oauth/client-auth/assertion.js";
import { MAX_JWT_BYTES as MAX_ASSERTION_BYTES } from "../../../src/core/protocol.js";
import { outcome } from "../reason.js";

const seg = (value: unknown) => base64url.encode(typeof value === "string" ? value : JSON.stringify(value));
const HEADER = seg({ alg: "ES256", kid: "k1" });
const PAYLOAD = seg({ iss: "c", sub: "c" });
const parse = (compact: string) => outcome(() => parseClientAssertion(compact));

describe("parseClientAssertion", () => {
  it("splits a compact JWS into its header and (unverified) claims", () => {
    const parsed = parseClientAssertion(`${HEADER}.${PAYLOAD}.c2ln`);
    expect(parsed.header).toEqual({ alg: "ES256", kid: "k1" });
    expect(parsed.unverifiedClaims).toEqual({ iss: "c", sub: "c" });
    expect(parsed.compact).toBe(`${HEADER}.${PAYLOAD}.c2ln`);
  });

  it("leaves a non-JSON payload for the signature check to refuse (claims undefined)", () => {
    expect(parseClientAssertion(`${HEADER}.${seg("not json")}.c2ln`).unverifiedClaims).toBeUndefined();
    expect(parseClientAssertion(`${HEADER}.${seg([1, 2])}.c2ln`).unverifiedClaims).toBeUndefined();
  });

  it("accepts exactly 8 KiB and refuses one character more", () => {
    expect(MAX_ASSERTION_BYTES).toBe(8192);
    const exactly = (length: number) => `${HEADER}.${"A".repeat(length - HEADER.length - 6)}.c2ln`;
    expect(exactly(8192)).toHaveLength(8192);
    expect(parse(exactly(8192))).toBe("ok");
    expect(parse(exactly(8193))).toBe("invalid_client/assertion_too_large");
  });

  it("refuses a JWE: five segments, or an enc header", () => {
    expect(parse(`${seg({ alg: "dir", enc: "A256GCM" })}..aXY.Y2lwaGVy.dGFn`)).toBe("invalid_client/assertion_is_jwe");
    expect(parse(`${seg({ alg: "ES256", enc: "A256GCM" })}.${PAYLOAD}.c2ln`)).toBe("invalid_client/assertion_is_jwe");
  });

  it("refuses alg none in any case, with or without a signature", () => {
    for (const alg of ["none", "None", "NONE"]) {
      expect(parse(`${seg({ alg })}.${PAYLOAD}.`)).toBe("invalid_client/assertion_alg_none");
      expect(parse(`${seg({ alg })}.${PAYLOAD}.c2ln`)).toBe("invalid_client/assertion_alg_none");
    }
  });

  it("refuses anything that is not three non-empty segments with a JSON object header and a string alg", () => {
    const notJws = [
      "",
      "abc",
      `${HEADER}.${PAYLOAD}`,
      `${HEADER}.${PAYLOAD}.c2ln.extra`,
      `.${PAYLOAD}.c2ln`,
      `${HEADER}..c2ln`,
      `${HEADER}.${PAYLOAD}.`,
      `${seg("not json")}.${PAYLOAD}.c2ln`,
      `${seg([{ alg: "ES256" }])}.${PAYLOAD}.c2ln`,
      `${seg({ kid: "k1" })}.${PAYLOAD}.c2ln`,
      `${seg({ alg: 256 })}.${PAYLOAD}.c2ln`,
      `!!!.${PAYLOAD}.c2ln`,
    ];
    for (const compact of notJws) expect(parse(compact), compact).toBe("invalid_client/assertion_not_jws");
  });
});

describe("isCanonicalBase64url", () => {
  /** The definition: decoding and encoding again gives the same text. */
  const roundTrips = (text: string) => {
    try {
      return base64url.encode(base64url.decode(text)) === text;
    } catch {
      return false;
    }
  };
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  it("agrees with decode-then-encode for every last character after prefixes of each length", () => {
    for (const prefix of ["", "Q", "QU", "QUI", "QUJD", "QUJDR", "QUJDRA"]) {
      for (const last of [...ALPHABET, "=", "+", "/", " ", "."]) {
        const text = prefix + last;
        expect(isCanonicalBase64url(text), JSON.stringify(text)).toBe(roundTrips(text));
      }
    }
  });

  it("accepts what jose encodes and refuses padding, whitespace and foreign characters", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => isCanonicalBase64url(base64url.encode(bytes))),
      { seed: 20261127, numRuns: 300 },
    );
    for (const text of ["QQ==", "QQ=", "QU I", "QUI\n", "QUI+", "QUI/", "A"]) expect(isCanonicalBase64url(text), text).toBe(false);
  });
});

describe("nameAssertionClient", () => {
  it("names the client by the client_id parameter, else the sub, else the iss", () => {
    expect(nameAssertionClient("a", { iss: "a", sub: "a" })).toEqual({ clientId: "a", claimsNameAnother: false });
    expect(nameAssertionClient(undefined, { iss: "i", sub: "s" })).toEqual({ clientId: "s", claimsNameAnother: false });
    expect(nameAssertionClient(undefined, { iss: "i", sub: "" })).toEqual({ clientId: "i", claimsNameAnother: false });
    expect(nameAssertionClient(undefined, { iss: "i" })).toEqual({ clientId: "i", claimsNameAnother: false });
  });

  it("refuses an assertion that names no client", () => {
    expect(outcome(() => nameAssertionClient(undefined, { iss: 1, sub: "" }))).toBe("invalid_client/client_id_undeterminable");
    expect(outcome(() => nameAssertionClient(undefined, undefined))).toBe("invalid_client/client_id_undeterminable");
  });

  it("tells when the client_id parameter names a client that neither iss nor sub names", () => {
    expect(nameAssertionClient("b", { iss: "a", sub: "a" })).toEqual({ clientId: "b", claimsNameAnother: true });
    // One of them naming it is enough here: the verified claims must then both equal it (rule 6).
    expect(nameAssertionClient("a", { iss: "a", sub: "x" }).claimsNameAnother).toBe(false);
    expect(nameAssertionClient("a", { iss: "x", sub: "a" }).claimsNameAnother).toBe(false);
    // No string iss/sub at all: nothing to compare, the verified claims fail rule 6 later.
    expect(nameAssertionClient("a", { iss: 1 }).claimsNameAnother).toBe(false);
  });
});
