/**
 * The candidate keys of a client assertion (SPEC §3 rule 4), gathered into one list before the
 * signature is verified once against it: the client's own inline `jwks` or its `jwks_uri` (through
 * a ClientKeySource), or, for client_secret_jwt, its current secret and, during a rotation's
 * overlap, the previous one. Only the client's own registration is consulted: header parameters
 * `jku`, `x5u` and `jwk` are ignored.
 */
import type { JWK } from "jose";
import type { ClientRecord } from "../../core/client-record.js";
import type { ClientKeySource } from "../../core/key-sources.js";
import type { SecretBox } from "../../stores/secret-box.js";
import { HMAC_MIN_SECRET_BYTES, isHmacAlg, keyVerifies, publicJwkProblem, type AssertionAlg, type AsymmetricAlg } from "../../core/algorithms.js";
import type { VerificationKey } from "../jws.js";
import { clientAuthFailed } from "./failures.js";
import { openSecrets } from "./secret.js";

const encoder = new TextEncoder();

/** Where the candidate keys come from. */
export interface CandidateKeySources {
  readonly keySource: ClientKeySource;
  secretBox(): Promise<SecretBox>;
}

/**
 * Every key that may have signed `client`'s assertion for `alg` and `kid`, in the order to try them.
 * @param now seconds since the epoch (whether the previous secret is still live).
 * @throws OAuthError invalid_client: no matching key, ambiguous keys, RSA under 2048 bits, a
 *   current client secret shorter than the HMAC output, or no readable secret.
 */
export async function candidateKeys(
  client: ClientRecord,
  alg: AssertionAlg,
  kid: string | undefined,
  sources: CandidateKeySources,
  now: number,
): Promise<VerificationKey[]> {
  if (isHmacAlg(alg)) {
    // RFC 7518 §3.2: the HMAC key must be at least as long as the hash output. The current secret
    // must be; a previous one that is not cannot verify anything, so it is no candidate.
    const [current, ...previous] = (await openSecrets(client, () => sources.secretBox(), now)).map((secret) => encoder.encode(secret));
    if (current!.length < HMAC_MIN_SECRET_BYTES[alg]) throw clientAuthFailed("assertion_secret_too_short");
    return [current!, ...previous.filter((secret) => secret.length >= HMAC_MIN_SECRET_BYTES[alg])];
  }
  let matching = matchingKeys(await sources.keySource.keysOf(client, false), alg, kid);
  if (matching.length === 0 && client.jwks_uri !== undefined) {
    // The client may have rolled its keys: refetch (the source rate-limits this).
    matching = matchingKeys(await sources.keySource.keysOf(client, true), alg, kid);
  }
  if (matching.length === 0) throw clientAuthFailed("assertion_key_not_found");
  if (matching.length > 1) throw clientAuthFailed("assertion_key_ambiguous");
  const jwk = matching[0]!;
  if (publicJwkProblem(jwk)?.problem === "rsa_too_weak") throw clientAuthFailed("assertion_key_too_weak");
  return [jwk];
}

/** Keys usable for `alg` (core/algorithms.js keyVerifies), and with `kid` when given. */
export function matchingKeys(keys: readonly JWK[], alg: AsymmetricAlg, kid: string | undefined): JWK[] {
  return keys.filter((jwk) => (kid === undefined || jwk.kid === kid) && keyVerifies(jwk, alg));
}
