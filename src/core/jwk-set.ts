/**
 * The schema of a public signing JWK (registration, SPEC §6), and which keys of a JWK Set fetched
 * from a client's `jwks_uri` or a trusted issuer may verify its assertions (SPEC §3 rule 4, §6;
 * RFC 7517 §5). Both judge a key by core/algorithms.js (publicJwkProblem). Pure rules; the fetching
 * and caching live in stores/remote-jwks.ts.
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
import { JWK_CURVES, PRIVATE_JWK_MEMBERS, PRIVATE_KEY_JWT_ALGS, PUBLIC_JWK_TYPES, publicJwkProblem, RSA_MIN_MODULUS_BITS, type PublicJwkProblem } from "./algorithms.js";

/** Most keys accepted in one remote set. */
export const MAX_REMOTE_JWKS_KEYS = 100;

const B64URL = z.string().check(z.regex(/^[A-Za-z0-9_-]+$/));

/** What each problem of publicJwkProblem says, at registration (`jwks.keys.<i>: …`). */
const PUBLIC_JWK_PROBLEM_TEXT: Record<PublicJwkProblem, (member: string | undefined) => string> = {
  private_key_material: (member) => `contains private key material ("${member}"); register the public key only`,
  kty_unsupported: () => "kty must be RSA, EC or OKP",
  rsa_incomplete: () => "an RSA key needs n and e",
  rsa_too_weak: () => `RSA key is shorter than ${RSA_MIN_MODULUS_BITS} bits`,
  ec_incomplete: () => "an EC key needs crv (P-256, P-384 or P-521), x and y",
  okp_incomplete: () => "an OKP key needs crv Ed25519 and x",
};

/** A public signing JWK: members well formed, and a usable key by publicJwkProblem. */
export const PublicJwkSchema = z
  .looseObject({
    kty: z.enum(PUBLIC_JWK_TYPES),
    kid: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    alg: z.optional(z.enum(PRIVATE_KEY_JWT_ALGS)),
    use: z.optional(z.literal("sig")),
    key_ops: z.optional(z.array(z.string())),
    n: z.optional(B64URL),
    e: z.optional(B64URL),
    crv: z.optional(z.enum(JWK_CURVES)),
    x: z.optional(B64URL),
    y: z.optional(B64URL),
  })
  .check(z.superRefine((jwk, ctx) => {
    const found = publicJwkProblem(jwk);
    if (found === undefined) return;
    ctx.addIssue({ code: "custom", message: PUBLIC_JWK_PROBLEM_TEXT[found.problem](found.member), ...(found.member !== undefined ? { path: [found.member] } : {}) });
  }));

/** A fetched key that can serve here: named by `kid` (an unknown `kid` triggers a refetch), for `verify`. */
const UsableJwkSchema = PublicJwkSchema.check(
  z.refine((jwk) => jwk.kid !== undefined && (jwk.key_ops === undefined || jwk.key_ops.includes("verify"))),
);

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
