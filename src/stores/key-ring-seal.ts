/**
 * The key ring's private keys at rest (SPEC §12): each private JWK is sealed as a compact JWE
 * (`dir`, `A256GCM`) under a key derived with HKDF-SHA256 from the CLIENT_SECRET_KEY secret (its
 * own `info` string, so it is independent of the client-secret box and the DPoP nonce key), bound
 * to the key's `kid` in the authenticated header. The Durable Object stores only sealed keys and
 * hands only sealed keys to isolates, which open the one that signs.
 */
import type { JWK } from "jose";
import { memoizeAsync } from "../memo.js";
import { deriveFromClientSecretKey, jweBox } from "./secret-box.js";

export interface KeyRingSeal {
  seal(kid: string, privateJwk: JWK): Promise<string>;
  /** @throws Error when the value was not sealed for `kid` under this secret. */
  open(kid: string, sealed: string): Promise<JWK>;
}

const cache = new Map<string, Promise<KeyRingSeal>>();

/**
 * The seal for a CLIENT_SECRET_KEY value, derived once per value per isolate.
 * @throws ConfigError("CLIENT_SECRET_KEY") when the value is not 32 bytes.
 */
export function loadKeyRingSeal(secretValue: string): Promise<KeyRingSeal> {
  return memoizeAsync(cache, secretValue, async () => {
    const box = jweBox(await deriveFromClientSecretKey(secretValue, "signing-key-ring v1", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]), "kid");
    return {
      seal: (kid, privateJwk) => box.seal(kid, JSON.stringify(privateJwk)),
      open: async (kid, sealed) => JSON.parse(await box.open(kid, sealed)) as JWK,
    };
  });
}
