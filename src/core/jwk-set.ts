/**
 * Which keys of a JWK Set fetched from a client's `jwks_uri` may verify its assertions (SPEC §3
 * rule 4, §6; RFC 7517 §5). Pure rules; the fetching and caching live in stores/remote-jwks.ts.
 *
 * - The document must be a JSON object with a `keys` array of objects, at most MAX_REMOTE_JWKS_KEYS.
 * - Any private or symmetric key material (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) rejects the
 *   whole set: a publisher that leaks private keys cannot be trusted for any of them.
 * - Keys are ignored (not an error) when they cannot serve here: no `kid` (remote sets are matched
 *   by `kid`, and an unknown `kid` is what triggers a refetch), `use` other than `sig`, `key_ops`
 *   without `verify`, an `alg` this server does not accept, an unsupported `kty`/`crv`, a malformed
 *   key, or RSA under 2048 bits. Encryption keys published beside signing keys are thus harmless.
 * - A set with no usable key left is invalid.
 */
import type { JWK } from "jose";
import * as z from "../zod.js";
import { PRIVATE_JWK_MEMBERS, PRIVATE_KEY_JWT_ALGS, RSA_MIN_MODULUS_BITS, rsaModulusBits } from "./algorithms.js";

/** Most keys accepted in one remote set. */
export const MAX_REMOTE_JWKS_KEYS = 100;

const B64URL = z.string().check(z.regex(/^[A-Za-z0-9_-]+$/));

const UsableJwkSchema = z
  .looseObject({
    kid: z.string().check(z.minLength(1), z.maxLength(256)),
    kty: z.enum(["RSA", "EC", "OKP"]),
    alg: z.optional(z.enum(PRIVATE_KEY_JWT_ALGS)),
    use: z.optional(z.literal("sig")),
    key_ops: z.optional(z.array(z.string()).check(z.refine((ops) => ops.includes("verify")))),
    n: z.optional(B64URL),
    e: z.optional(B64URL),
    crv: z.optional(z.enum(["P-256", "P-384", "P-521", "Ed25519"])),
    x: z.optional(B64URL),
    y: z.optional(B64URL),
  })
  .check(z.refine((jwk) => {
    if (jwk.kty === "RSA") return jwk.n !== undefined && jwk.e !== undefined && rsaModulusBits(jwk.n) >= RSA_MIN_MODULUS_BITS;
    if (jwk.kty === "EC") return jwk.crv !== undefined && jwk.crv !== "Ed25519" && jwk.x !== undefined && jwk.y !== undefined;
    return jwk.crv === "Ed25519" && jwk.x !== undefined;
  }));

export type RemoteJwksProblem = "invalid_json" | "not_a_jwk_set" | "too_many_keys" | "private_key_material" | "no_usable_keys";

export type RemoteJwksResult =
  | { readonly ok: true; readonly keys: readonly JWK[]; readonly ignored: number }
  | { readonly ok: false; readonly problem: RemoteJwksProblem };

/** Validate the text of a fetched JWK Set and keep its usable verification keys. */
export function parseRemoteJwks(text: string): RemoteJwksResult {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, problem: "invalid_json" };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) return { ok: false, problem: "not_a_jwk_set" };
  const entries = (document as { keys?: unknown }).keys;
  if (!Array.isArray(entries)) return { ok: false, problem: "not_a_jwk_set" };
  if (entries.length > MAX_REMOTE_JWKS_KEYS) return { ok: false, problem: "too_many_keys" };

  const keys: JWK[] = [];
  for (const entry of entries) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return { ok: false, problem: "not_a_jwk_set" };
    if (PRIVATE_JWK_MEMBERS.some((member) => member in entry)) return { ok: false, problem: "private_key_material" };
    if (UsableJwkSchema.safeParse(entry).success) keys.push(entry as JWK);
  }
  if (keys.length === 0) return { ok: false, problem: "no_usable_keys" };
  return { ok: true, keys, ignored: entries.length - keys.length };
}
