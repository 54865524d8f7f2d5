/**
 * CLIENT_SECRET_KEY and what is kept under it. Client secrets at rest (SPEC §6): sealed as a
 * compact JWE (`dir`, `A256GCM`) under the key itself, bound to the client_id, never stored or
 * logged in plain text. Every other key the service needs without a secret of its own is derived
 * from it, one HKDF `info` per purpose (deriveFromClientSecretKey).
 */
import { base64url, CompactEncrypt, compactDecrypt } from "jose";
import { ConfigError } from "../config.js";
import { memoizeAsync } from "../memo.js";

export interface SecretBox {
  seal(clientId: string, secret: string): Promise<string>;
  /** @throws Error when the sealed value was not made for this client (id) or under this key. */
  open(clientId: string, sealed: string): Promise<string>;
}

const cache = new Map<string, Promise<SecretBox>>();
const derivedKeys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The SecretBox for a `CLIENT_SECRET_KEY` value (32 bytes, base64url or base64), cached per value.
 * @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes.
 */
export function loadSecretBox(keyValue: string): Promise<SecretBox> {
  return memoizeAsync(cache, keyValue, async () => {
    const key = await crypto.subtle.importKey("raw", clientSecretKeyBytes(keyValue), "AES-GCM", false, ["encrypt", "decrypt"]);
    // The client_id sits in the protected header: a sealed secret copied onto another client's record does not open there.
    return jweBox(key, "cid");
  });
}

/** What a key derived from CLIENT_SECRET_KEY is for: its HKDF `info`, so no two purposes share a key. */
export type DerivedKeyPurpose = "dpop-nonce v1" | "signing-key-ring v1" | "shared key-set cache v1";

/**
 * A key for one purpose, derived with HKDF-SHA256 from a `CLIENT_SECRET_KEY` value, so the service
 * needs no further secret (DPoP nonces, the key ring's sealed keys, the shared key-set cache's
 * tags). Cached per value and purpose.
 * @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes.
 */
export function deriveFromClientSecretKey(
  keyValue: string,
  purpose: DerivedKeyPurpose,
  algorithm: SubtleCryptoImportKeyAlgorithm,
  usages: string[],
): Promise<CryptoKey> {
  return memoizeAsync(derivedKeys, `${purpose}\n${keyValue}`, async () => {
    const ikm = await crypto.subtle.importKey("raw", clientSecretKeyBytes(keyValue), "HKDF", false, ["deriveKey"]);
    const params = { name: "HKDF", hash: "SHA-256", salt: encoder.encode("edge-token-service"), info: encoder.encode(purpose) };
    return crypto.subtle.deriveKey(params, ikm, algorithm, false, usages);
  });
}

/** @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes, base64url or base64. */
function clientSecretKeyBytes(keyValue: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = base64url.decode(keyValue.trim().replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  } catch {
    raw = new Uint8Array();
  }
  if (raw.length !== 32) {
    throw new ConfigError("CLIENT_SECRET_KEY", "must be 32 random bytes, base64url-encoded (43 characters)");
  }
  return raw;
}

/**
 * Text sealed as a compact JWE (`dir`, `A256GCM`) under `key`, bound to an id carried in the
 * protected header member `member`, which GCM authenticates: a value sealed for one id never opens
 * for another.
 */
export function jweBox(key: CryptoKey, member: "cid" | "kid"): SecretBox {
  return {
    seal: (id, text) => new CompactEncrypt(encoder.encode(text)).setProtectedHeader({ alg: "dir", enc: "A256GCM", [member]: id }).encrypt(key),
    async open(id, sealed) {
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, key);
      if (protectedHeader[member] !== id) throw new Error(`sealed for another ${member}`);
      return decoder.decode(plaintext);
    },
  };
}

/** A fresh client secret: 48 random bytes (384 bits), 64 base64url characters, long enough for HS512. */
export function generateClientSecret(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(48)));
}

/** A fresh CLIENT_SECRET_KEY value. */
export function generateSecretBoxKey(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}
