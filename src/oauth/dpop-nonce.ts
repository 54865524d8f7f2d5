/**
 * The token endpoint's DPoP nonces (RFC 9449 §8): core/dpop.js's stateless nonces under an HMAC
 * key derived with HKDF-SHA256 from the CLIENT_SECRET_KEY secret (a separate `info` string keeps
 * it independent of the secret-encryption key), so no new secret is needed. Rotating
 * CLIENT_SECRET_KEY invalidates outstanding nonces: clients just get one `use_dpop_nonce` retry.
 */
import { statelessDpopNonces, type DpopNonceSource } from "../core/dpop.js";
import { memoizeAsync } from "../memo.js";

const encoder = new TextEncoder();
const cache = new Map<string, Promise<DpopNonceSource>>();

/** The nonce source for a CLIENT_SECRET_KEY value, derived once per value per isolate. */
export function loadDpopNonces(secretKeyValue: string): Promise<DpopNonceSource> {
  return memoizeAsync(cache, secretKeyValue, async () => {
    const ikm = await crypto.subtle.importKey("raw", encoder.encode(secretKeyValue), "HKDF", false, ["deriveKey"]);
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: encoder.encode("edge-token-service"), info: encoder.encode("dpop-nonce v1") },
      ikm,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
    return statelessDpopNonces(async () => key);
  });
}
