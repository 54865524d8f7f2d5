/**
 * DPoP at the token endpoint (RFC 9449): whether a request must carry a proof (§5.2), the proof's
 * checks (core/dpop.js, shared with ./resource) as this endpoint's reasons, the server nonce of §8,
 * and single use of each proof's jti (§11.1). Plain functions: the route passes the DPoP header,
 * the method and the URL.
 *
 * Nothing is consumed here until `consumeDpopProof`, which the token endpoint calls only after
 * every other check of the request passed (with the client assertion's own jti).
 */
import { OAuthError } from "../core/errors.js";
import { DPOP_NONCE_NEEDED, INVALID_DPOP_PROOF, type DpopNonceReason, type InvalidDpopProofReason } from "../core/error-catalogue.js";
import type { ClientRecord } from "../core/client-record.js";
import { checkDpopProof, type DpopNonceSource, type DpopProblem } from "../core/dpop.js";
import type { JtiRegistry } from "../stores/replay-guard.js";
import type { ReplayScope } from "../stores/replay-topology.js";

/** Prefix of the replay-guard key space of DPoP proofs; `:` never occurs in a client_id. */
const DPOP_REPLAY_PREFIX = "dpop:";

/** Every public description, for tests that check they are distinct. */
export const ALL_DPOP_DESCRIPTIONS: readonly string[] = [...Object.values(INVALID_DPOP_PROOF), ...Object.values(DPOP_NONCE_NEEDED)].map((entry) => entry.description);

/** This endpoint's reason for each failed check: `dpop_<check>` (`cnf.jkt` and `ath` are a resource server's). */
const reasonFor = (problem: Exclude<DpopProblem, "jkt_mismatch" | "ath_mismatch">): InvalidDpopProofReason | DpopNonceReason => `dpop_${problem}`;

/** The HTTP request a proof must match. */
export interface DpopHttpRequest {
  /** The `DPoP` header as `Headers.get` returns it (repeated headers joined by ", "), or null. */
  readonly proof: string | null;
  readonly method: string;
  readonly url: string;
}

/** A proof that passed every check but single use: `jkt` becomes the token's `cnf.jkt` (§6.1). */
export interface VerifiedDpopProof {
  readonly jkt: string;
  readonly jti: string;
  /** Seconds since the epoch: until when the proof could be accepted, so its jti is remembered. */
  readonly acceptableUntil: number;
}

/**
 * The token request's DPoP proof, checked (RFC 9449 §4.3): null when none was sent and the client
 * may do without.
 * @param rules `now` in seconds; `nonces` when DPOP_NONCE is `required`, else null.
 * @throws OAuthError invalid_dpop_proof naming the failed check, or use_dpop_nonce with a fresh
 *   nonce in the `DPoP-Nonce` header (§8).
 */
export async function checkTokenRequestDpop(
  request: DpopHttpRequest,
  client: ClientRecord,
  rules: { readonly now: number; readonly clockSkewSeconds: number; readonly nonces: DpopNonceSource | null },
): Promise<VerifiedDpopProof | null> {
  if (request.proof === null) {
    // RFC 9449 §5.2: "the authorization server MUST reject token requests from the client that do
    // not contain the DPoP header". invalid_dpop_proof, not invalid_request: see docs/token-lifecycle.md.
    if (client.dpop_bound_access_tokens) throw new OAuthError("dpop_proof_required");
    return null;
  }
  const checked = await checkDpopProof(request.proof, request, rules);
  if (checked.ok) return checked;
  const err = new OAuthError(reasonFor(checked.problem as Parameters<typeof reasonFor>[0]));
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
