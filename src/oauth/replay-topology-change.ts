/**
 * SPEC §10 at registration: when a change moves a client's replay-guard objects (a new shard count
 * or location), the topology it leaves stays in force for as long as an isolate may still record
 * under it alone, plus as long as a jti recorded then can be presented again. Until then every first
 * use is recorded under both (stores/replay-topology.ts), so no assertion is used twice across
 * the change. Deleting a client and creating one with the same client_id is such a change too.
 * Pure functions of the records and `now`.
 */
import type { TopologyFields } from "../stores/replay-topology.js";
import type { DeletedClient, PreviousReplayTopology } from "../core/client-record.js";
import { currentTopology, sameTopology } from "../stores/replay-topology.js";
import { DPOP_IAT_WINDOW_SECONDS } from "../core/dpop.js";

/**
 * How long after a change an isolate may still hold the old record: KV's "about 60 s" to reach
 * every location (no hard bound, so doubled), the in-isolate client cache (10 s) and its refresh
 * grace (5 s) included.
 */
export const RECORD_PROPAGATION_SECONDS = 120;

/** Topologies in transition at once; a further change waits for the oldest to end. */
export const MAX_TOPOLOGIES_IN_TRANSITION = 3;

export interface TransitionRules {
  readonly assertionMaxLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
}

/**
 * Seconds a left topology stays in force. An assertion first used at t can be presented again
 * until t + its lifetime + 2 × skew (`exp` ≤ t + lifetime + skew, accepted while `exp` > now −
 * skew); a DPoP proof until t + 2 × (iat window + skew). The last use under the old topology alone
 * is at most RECORD_PROPAGATION_SECONDS after the change.
 */
export function topologyTransitionSeconds(rules: TransitionRules): number {
  const skew = rules.clockSkewSeconds;
  return RECORD_PROPAGATION_SECONDS + Math.max(rules.assertionMaxLifetimeSeconds + 2 * skew, 2 * (DPOP_IAT_WINDOW_SECONDS + skew));
}

export type TopologyChange =
  | { readonly ok: true; readonly previous: PreviousReplayTopology[] | undefined }
  | { readonly ok: false; readonly busyUntil: number };

/**
 * The `replay_guard_previous` of `next`: the still-live previous topologies of `current`, plus the
 * one `current` leaves when `next` names other objects, in force until `now` + transitionSeconds.
 * Refused (`busyUntil`: when the oldest ends) past MAX_TOPOLOGIES_IN_TRANSITION.
 */
export function replayTopologyChange(current: TopologyFields, next: TopologyFields, now: number, transitionSeconds: number): TopologyChange {
  const live = (current.replay_guard_previous ?? []).filter((p) => p.until > now);
  const from = currentTopology(current);
  if (sameTopology(from, currentTopology(next))) return { ok: true, previous: live.length > 0 ? live : undefined };
  if (live.length >= MAX_TOPOLOGIES_IN_TRANSITION) return { ok: false, busyUntil: Math.min(...live.map((p) => p.until)) };
  return { ok: true, previous: [...live, { ...from, until: now + transitionSeconds }] };
}

/**
 * The `replay_guard_previous` of a client created where `deleted` was: the deleted client's
 * topologies still in force at `now`, its last one until `deleted_at` + transitionSeconds (an
 * isolate may still hold the deleted record until then, and a jti it recorded stays live), minus
 * the new record's own topology.
 */
export function inheritedTopologies(deleted: DeletedClient, next: TopologyFields, now: number, transitionSeconds: number): PreviousReplayTopology[] | undefined {
  const left = [...(deleted.replay_guard_previous ?? []), { ...currentTopology(deleted), until: deleted.deleted_at + transitionSeconds }];
  const own = currentTopology(next);
  const live = left.filter((p) => p.until > now && !sameTopology(p, own));
  return live.length > 0 ? live : undefined;
}
