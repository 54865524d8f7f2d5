/**
 * Finding the key that verifies a client assertion (SPEC §3 rule 4). Only the client's own
 * registration is consulted: its inline `jwks` or its `jwks_uri` (through a ClientKeySource),
 * or its secret for client_secret_jwt. Header parameters `jku`, `x5u` and `jwk` are ignored.
 */
import { importJWK, type CryptoKey, type JWK } from "jose";
import type { ClientRecord } from "../../core/client-record.js";
import type { ClientKeySource } from "../../core/key-sources.js";
import {
  HMAC_MIN_SECRET_BYTES,
  isHmacAlg,
  keyTypeForAlg,
  sameAlgorithm,
  RSA_MIN_MODULUS_BITS,
  rsaModulusBits,
  type AssertionAlg,
  type AsymmetricAlg,
} from "../../core/algorithms.js";
import { clientAuthFailed } from "./failures.js";
import { memoizeAsync } from "../../memo.js";

const encoder = new TextEncoder();
/** Imported public keys, per JWK object (records are cached, so their JWKs are reused). */
const importedKeys = new WeakMap<JWK, Map<string, Promise<CryptoKey>>>();

/**
 * The verification key for `alg` and `kid`.
 * @throws OAuthError invalid_client: no matching key, ambiguous keys, RSA under 2048 bits, or a
 *   client secret shorter than the HMAC output.
 */
export async function resolveAssertionKey(
  client: ClientRecord,
  alg: AssertionAlg,
  kid: string | undefined,
  clientSecret: string | undefined,
  keySource: ClientKeySource,
): Promise<CryptoKey | Uint8Array> {
  if (isHmacAlg(alg)) {
    // RFC 7518 §3.2: the HMAC key must be at least as long as the hash output.
    const secret = encoder.encode(clientSecret ?? "");
    if (secret.length < HMAC_MIN_SECRET_BYTES[alg]) throw clientAuthFailed("assertion_secret_too_short");
    return secret;
  }
  let candidates = matchingKeys(await keySource.keysOf(client, false), alg, kid);
  if (candidates.length === 0 && client.jwks_uri !== undefined) {
    // The client may have rolled its keys: refetch (the source rate-limits this).
    candidates = matchingKeys(await keySource.keysOf(client, true), alg, kid);
  }
  if (candidates.length === 0) throw clientAuthFailed("assertion_key_not_found");
  if (candidates.length > 1) throw clientAuthFailed("assertion_key_ambiguous");
  const jwk = candidates[0]!;
  if (jwk.kty === "RSA" && rsaModulusBits(jwk.n ?? "") < RSA_MIN_MODULUS_BITS) throw clientAuthFailed("assertion_key_too_weak");
  return importCached(jwk, alg);
}

/** Keys usable for `alg`: same kty/crv, compatible `alg`/`use`/`key_ops`, and `kid` when given. */
export function matchingKeys(keys: readonly JWK[], alg: AsymmetricAlg, kid: string | undefined): JWK[] {
  const { kty, crv } = keyTypeForAlg(alg);
  return keys.filter((jwk) => {
    if (kid !== undefined && jwk.kid !== kid) return false;
    if (jwk.kty !== kty || (crv !== undefined && jwk.crv !== crv)) return false;
    if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, alg)) return false;
    if (jwk.use !== undefined && jwk.use !== "sig") return false;
    if (jwk.key_ops !== undefined && !jwk.key_ops.includes("verify")) return false;
    return true;
  });
}

export async function importCached(jwk: JWK, alg: AsymmetricAlg): Promise<CryptoKey> {
  let byAlg = importedKeys.get(jwk);
  if (!byAlg) importedKeys.set(jwk, (byAlg = new Map()));
  const pending = memoizeAsync(byAlg, alg, async () => {
    const { alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...bare } = jwk;
    const key = await importJWK(bare, alg);
    if (key instanceof Uint8Array) throw new Error("symmetric key in a client JWKS");
    return key;
  });
  try {
    return await pending;
  } catch {
    throw clientAuthFailed("assertion_key_not_found");
  }
}
