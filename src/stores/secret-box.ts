/**
 * Client secrets at rest (SPEC §6): sealed as a compact JWE (`dir`, `A256GCM`) under
 * `CLIENT_SECRET_KEY`, bound to the client_id, never stored or logged in plain text.
 */
import { base64url, CompactEncrypt, compactDecrypt } from "jose";
import { ConfigError } from "../config.js";
import { memoizeAsync } from "../memo.js";

export interface SecretBox {
  seal(clientId: string, secret: string): Promise<string>;
  /** @throws Error when the sealed value was not made for this client or under this key. */
  open(clientId: string, sealed: string): Promise<string>;
}

const cache = new Map<string, Promise<SecretBox>>();

/**
 * The SecretBox for a `CLIENT_SECRET_KEY` value (32 bytes, base64url or base64), cached per value.
 * @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes.
 */
export function loadSecretBox(keyValue: string): Promise<SecretBox> {
  return memoizeAsync(cache, keyValue, () => createSecretBox(keyValue));
}

async function createSecretBox(keyValue: string): Promise<SecretBox> {
  let raw: Uint8Array;
  try {
    raw = base64url.decode(keyValue.trim().replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  } catch {
    raw = new Uint8Array();
  }
  if (raw.length !== 32) {
    throw new ConfigError("CLIENT_SECRET_KEY", "must be 32 random bytes, base64url-encoded (43 characters)");
  }
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    async seal(clientId, secret) {
      return new CompactEncrypt(encoder.encode(secret))
        .setProtectedHeader({ alg: "dir", enc: "A256GCM", cid: clientId })
        .encrypt(key);
    },
    async open(clientId, sealed) {
      // The client_id sits in the protected header, which GCM authenticates: a sealed secret
      // copied onto another client's record does not open there.
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, key);
      if (protectedHeader.cid !== clientId) throw new Error("sealed secret belongs to another client");
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
