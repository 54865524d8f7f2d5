/**
 * The token endpoint's DPoP nonces (RFC 9449 §8): core/dpop.js's stateless nonces under an HMAC
 * key derived with HKDF-SHA256 from the CLIENT_SECRET_KEY secret (a separate `info` string keeps
 * it independent of the secret-encryption key), so no new secret is needed. Rotating
 * CLIENT_SECRET_KEY invalidates outstanding nonces: clients just get one `use_dpop_nonce` retry.
 */
import { statelessDpopNonces, type DpopNonceSource } from "../core/dpop.js";
import { memoizeAsync } from "../memo.js";
import { deriveFromClientSecretKey } from "../stores/secret-box.js";

const cache = new Map<string, Promise<DpopNonceSource>>();

/**
 * The nonce source for a CLIENT_SECRET_KEY value, derived once per value per isolate.
 * @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes.
 */
export function loadDpopNonces(secretKeyValue: string): Promise<DpopNonceSource> {
  return memoizeAsync(cache, secretKeyValue, async () => {
    const key = await deriveFromClientSecretKey(secretKeyValue, "dpop-nonce v1", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]);
    return statelessDpopNonces(async () => key);
  });
}
