/**
 * The server's access-token signing keys (SPEC §5), from the `SIGNING_KEYS` secret: a JWK Set of
 * private keys, each with `kid` and `alg`. The first signs; all are published in the JWKS, so a
 * new key is published before it signs and an old one kept until its tokens expire.
 *
 * Keys are parsed and imported once per isolate per secret value, never per request.
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import { ConfigError } from "../config.js";
import { isAsymmetricAlg, publicJwkOf, publicJwkProblem, RSA_MIN_MODULUS_BITS, type AsymmetricAlg } from "../core/algorithms.js";
import { memoizeAsync } from "../memo.js";

export interface SigningKeys {
  /** The key that signs new access tokens. */
  readonly active: { readonly kid: string; readonly alg: AsymmetricAlg; readonly key: CryptoKey };
  /** Public JWK Set served at /.well-known/jwks.json. */
  readonly publicJwks: { readonly keys: readonly JWK[] };
  /** Every published public key by kid, for verifying our own tokens (introspection). */
  readonly verificationKeys: ReadonlyMap<string, { alg: AsymmetricAlg; key: CryptoKey }>;
  /**
   * The longest an access token signed now may live, when the keys say (automatic keys: RETAIN −
   * CLOCK_SKEW, SPEC §12, so every token verifies until it expires); no limit when undefined.
   */
  readonly maxTokenLifetimeSeconds?: number;
}


const cache = new Map<string, Promise<SigningKeys>>();

/**
 * Parse and import a `SIGNING_KEYS` value, cached per value.
 * @throws ConfigError("SIGNING_KEYS") for invalid JSON, an empty set, a key without `kid`/`alg`, a
 *   public-only or symmetric key, a duplicate `kid`, or an RSA key under 2048 bits.
 */
export function loadSigningKeys(secretValue: string): Promise<SigningKeys> {
  // A failed import is not cached: the operator may fix the secret without a redeploy race.
  return memoizeAsync(cache, secretValue, () => importSigningKeys(secretValue));
}

async function importSigningKeys(secretValue: string): Promise<SigningKeys> {
  const fail = (problem: string) => new ConfigError("SIGNING_KEYS", problem);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretValue);
  } catch {
    throw fail("is not valid JSON (expected a JWK Set: {\"keys\": [...]})");
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw fail("must be a JWK Set with at least one key");

  const publicKeys: JWK[] = [];
  const verificationKeys = new Map<string, { alg: AsymmetricAlg; key: CryptoKey }>();
  let active: SigningKeys["active"] | undefined;
  for (const [index, raw] of keys.entries()) {
    const jwk = raw as JWK;
    const where = `key ${index}`;
    if (typeof jwk !== "object" || jwk === null) throw fail(`${where} is not a JWK object`);
    if (typeof jwk.kid !== "string" || jwk.kid === "") throw fail(`${where} has no "kid"`);
    if (!isAsymmetricAlg(jwk.alg)) throw fail(`${where} ("${jwk.kid}") needs an asymmetric "alg" such as ES256`);
    if (typeof jwk.d !== "string") throw fail(`${where} ("${jwk.kid}") is not a private key`);
    if (verificationKeys.has(jwk.kid)) throw fail(`kid "${jwk.kid}" appears twice`);
    if (publicJwkProblem(toPublicJwk(jwk))?.problem === "rsa_too_weak") {
      throw fail(`${where} ("${jwk.kid}") is an RSA key under ${RSA_MIN_MODULUS_BITS} bits`);
    }
    const publicJwk = toPublicJwk(jwk);
    let privateKey: CryptoKey;
    let publicKey: CryptoKey;
    try {
      privateKey = (await importJWK({ ...jwk, key_ops: undefined, ext: undefined }, jwk.alg)) as CryptoKey;
      publicKey = (await importJWK(publicJwk, jwk.alg)) as CryptoKey;
    } catch {
      throw fail(`${where} ("${jwk.kid}") cannot be imported for ${jwk.alg}`);
    }
    if (index === 0) active = { kid: jwk.kid, alg: jwk.alg, key: privateKey };
    publicKeys.push(publicJwk);
    verificationKeys.set(jwk.kid, { alg: jwk.alg, key: publicKey });
  }
  return { active: active!, publicJwks: { keys: publicKeys }, verificationKeys };
}

/** The public half of a JWK (core/algorithms.js) with `use: "sig"`. */
export function toPublicJwk(jwk: JWK): JWK {
  return { ...publicJwkOf(jwk), use: "sig" };
}

/** A fresh private signing JWK with `kid` and `alg`, as one entry of a `SIGNING_KEYS` set. */
export async function generateSigningJwk(alg: AsymmetricAlg = "ES256"): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = `${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  return { ...jwk, kid, alg, use: "sig" };
}
