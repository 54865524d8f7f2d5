/**
 * The one JOSE helper of the OAuth rules: import a public JWK (or take an HMAC secret) and verify a
 * compact JWS against a list of candidate keys, yielding its payload as a JSON object. Client
 * assertions (client-auth/) and federated assertions (federation/) verify through it (a DPoP
 * proof, with its embedded key, in core/dpop.js); each maps the outcome to its own failure
 * reasons, so this module throws none. The signature is checked with jose, for the one `alg` the caller already vetted (RFC 8725 §3.1).
 */
import { base64url, compactVerify, importJWK, type CryptoKey, type JWK } from "jose";
import { memoizeAsync } from "../memo.js";
import type { AssertionAlg, AsymmetricAlg } from "../core/algorithms.js";

/** A candidate verification key: a public JWK, or the bytes of an HMAC secret. */
export type VerificationKey = JWK | Uint8Array;

export type JwsVerification =
  | { readonly ok: true; readonly claims: Record<string, unknown> }
  /**
   * `key_invalid`: no candidate could be imported; `signature_invalid`: none verifies;
   * `payload_invalid`: the signature verifies but the payload is not a JSON object.
   */
  | { readonly ok: false; readonly problem: "key_invalid" | "signature_invalid" | "payload_invalid" };

const decoder = new TextDecoder();
/** Imported public keys, per JWK object (records are cached, so their JWKs are reused). */
const importedKeys = new WeakMap<JWK, Map<string, Promise<CryptoKey>>>();

/**
 * Verify `compact` with the first of `keys` whose signature matches, for exactly `alg`. A key that
 * cannot be imported is skipped; so is one that does not verify.
 */
export async function verifyCompactJws(compact: string, alg: AssertionAlg, keys: readonly VerificationKey[]): Promise<JwsVerification> {
  let imported = 0;
  for (const candidate of keys) {
    let key: CryptoKey | Uint8Array;
    try {
      key = candidate instanceof Uint8Array ? candidate : await importPublicJwk(candidate, alg as AsymmetricAlg);
    } catch {
      continue;
    }
    imported++;
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(compact, key, { algorithms: [alg] }));
    } catch {
      continue;
    }
    const claims = parseJsonObject(payload);
    return claims === undefined ? { ok: false, problem: "payload_invalid" } : { ok: true, claims };
  }
  return { ok: false, problem: imported === 0 ? "key_invalid" : "signature_invalid" };
}

/**
 * A public JWK imported for `alg`, cached per JWK object and alg. Usage hints in the JWK (`alg`,
 * `use`, `key_ops`, `ext`) were matched by the caller and are not ours to hand to WebCrypto.
 * @throws Error when the JWK is not an importable public key for `alg`.
 */
export function importPublicJwk(jwk: JWK, alg: AsymmetricAlg): Promise<CryptoKey> {
  let byAlg = importedKeys.get(jwk);
  if (!byAlg) importedKeys.set(jwk, (byAlg = new Map()));
  return memoizeAsync(byAlg, alg, async () => {
    const { alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...bare } = jwk;
    const key = await importJWK(bare, alg);
    if (key instanceof Uint8Array) throw new Error("a symmetric JWK where a public key is expected");
    return key;
  });
}

/** A base64url segment (header or payload) decoded as a JSON object; undefined when it is not one. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    return parseJsonObject(base64url.decode(segment));
  } catch {
    return undefined;
  }
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
