/**
 * The key ring's private keys at rest (SPEC §12): each private JWK is sealed as a compact JWE
 * (`dir`, `A256GCM`) under a key derived with HKDF-SHA256 from the CLIENT_SECRET_KEY secret (its
 * own `info` string, so it is independent of the client-secret box and the DPoP nonce key), bound
 * to the key's `kid` in the authenticated header. The Durable Object stores only sealed keys and
 * hands only sealed keys to isolates, which open the one that signs.
 */
import { CompactEncrypt, compactDecrypt, type JWK } from "jose";
import { memoizeAsync } from "../memo.js";

export interface KeyRingSeal {
  seal(kid: string, privateJwk: JWK): Promise<string>;
  /** @throws Error when the value was not sealed for `kid` under this secret. */
  open(kid: string, sealed: string): Promise<JWK>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cache = new Map<string, Promise<KeyRingSeal>>();

/** The seal for a CLIENT_SECRET_KEY value, derived once per value per isolate. */
export function loadKeyRingSeal(secretValue: string): Promise<KeyRingSeal> {
  return memoizeAsync(cache, secretValue, () => createSeal(secretValue));
}

async function createSeal(secretValue: string): Promise<KeyRingSeal> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secretValue), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("edge-token-service"), info: encoder.encode("signing-key-ring v1") },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return {
    seal: (kid, privateJwk) => new CompactEncrypt(encoder.encode(JSON.stringify(privateJwk))).setProtectedHeader({ alg: "dir", enc: "A256GCM", kid }).encrypt(key),
    async open(kid, sealed) {
      // The kid sits in the protected header, which GCM authenticates: a sealed key copied onto
      // another kid does not open there.
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, key);
      if (protectedHeader.kid !== kid) throw new Error("sealed key belongs to another kid");
      return JSON.parse(decoder.decode(plaintext)) as JWK;
    },
  };
}
