/**
 * DPoP at the token endpoint (RFC 9449): whether a request must carry a proof (§5.2), the checks
 * of §4.3 in a fixed order (header, key, signature, then claims against one `now`), the server
 * nonce of §8, and single use of each proof's jti (§11.1). Plain functions: the route passes the
 * DPoP header, the method and the URL.
 *
 * Nothing is consumed here until `consumeDpopProof`, which the token endpoint calls only after
 * every other check of the request passed (with the client assertion's own jti).
 */
import { OAuthError } from "../core/errors.js";
import { DPOP_NONCE_NEEDED, INVALID_DPOP_PROOF, type DpopNonceReason, type InvalidDpopProofReason } from "../core/error-catalogue.js";
import type { ClientRecord } from "../core/client-record.js";
import { checkDpopProof, type DpopProblem } from "../core/dpop.js";
import type { JtiRegistry } from "../stores/replay-guard.js";
import type { ReplayScope } from "../stores/replay-topology.js";
import type { DpopNonces } from "./dpop-nonce.js";

/** Prefix of the replay-guard key space of DPoP proofs; `:` never occurs in a client_id. */
const DPOP_REPLAY_PREFIX = "dpop:";

export type DpopFailureReason = InvalidDpopProofReason | DpopNonceReason;

/** Every public description, for tests that check they are distinct. */
export const ALL_DPOP_DESCRIPTIONS: readonly string[] = [...Object.values(INVALID_DPOP_PROOF), ...Object.values(DPOP_NONCE_NEEDED)].map((entry) => entry.description);

/** The token endpoint's reason for each failed check (core/dpop.js); `cnf.jkt` and `ath` are a resource server's. */
type TokenEndpointProblem = Exclude<DpopProblem, "jkt_mismatch" | "ath_mismatch">;
const reasonFor = (problem: TokenEndpointProblem): DpopFailureReason => `dpop_${problem}`;

/** The HTTP request a proof must match. */
export interface DpopHttpRequest {
  /** The `DPoP` header as `Headers.get` returns it (repeated headers joined by ", "), or null. */
  readonly proof: string | null;
  readonly method: string;
  readonly url: string;
}

export interface DpopRules {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly clockSkewSeconds: number;
  /** Nonce source when DPOP_NONCE is `required`; null when nonces are off. */
  readonly nonces: DpopNonces | null;
}

/** A proof that passed every check but single use. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: the token's `cnf.jkt` (RFC 9449 §6.1). */
  readonly jkt: string;
  readonly jti: string;
  /** Seconds since the epoch: until when the proof could be accepted, so its jti is remembered. */
  readonly acceptableUntil: number;
}

/**
 * The token request's DPoP proof, checked: null when none was sent and the client may do without.
 * @throws OAuthError invalid_dpop_proof naming the failed check, or use_dpop_nonce.
 */
export async function checkTokenRequestDpop(
  request: DpopHttpRequest,
  client: ClientRecord,
  rules: DpopRules,
): Promise<VerifiedDpopProof | null> {
  if (request.proof === null) {
    // RFC 9449 §5.2: "the authorization server MUST reject token requests from the client that do
    // not contain the DPoP header". invalid_dpop_proof, not invalid_request: see docs/token-lifecycle.md.
    if (client.dpop_bound_access_tokens) throw new OAuthError("dpop_proof_required");
    return null;
  }
  return verifyDpopProof(request.proof, request, rules);
}

/**
 * RFC 9449 §4.3 items 1-11 for one proof (core/dpop.js).
 * @throws OAuthError invalid_dpop_proof naming the failed check, or use_dpop_nonce with a fresh
 *   nonce in the `DPoP-Nonce` header (§8).
 */
export async function verifyDpopProof(proof: string, request: Pick<DpopHttpRequest, "method" | "url">, rules: DpopRules): Promise<VerifiedDpopProof> {
  const checked = await checkDpopProof(proof, request, rules);
  if (checked.ok) return checked;
  const err = new OAuthError(reasonFor(checked.problem as TokenEndpointProblem));
  if (err.error === "use_dpop_nonce" && rules.nonces !== null) err.headers = { "DPoP-Nonce": await rules.nonces.issue(rules.now) };
  throw err;
}

/**
 * RFC 9449 §11.1: record the proof's jti, per proof key, until the proof can no longer be accepted,
 * in the replay-guard objects of the client whose token request it accompanies (`scope`, SPEC
 * §10): they are near that client, and the proof is checked in parallel with its assertion.
 * @throws OAuthError invalid_dpop_proof on replay; 503 when the replay guard is unreachable.
 */
export async function consumeDpopProof(proof: VerifiedDpopProof, scope: ReplayScope, registry: JtiRegistry): Promise<void> {
  const firstUse = await registry.consumeOnce(scope, `${DPOP_REPLAY_PREFIX}${proof.jkt}`, proof.jti, proof.acceptableUntil);
  if (!firstUse) throw new OAuthError("dpop_replayed");
}
