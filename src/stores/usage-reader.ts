/**
 * Reading a client's usage counts where the token path wrote them (SPEC §11): every replay-guard
 * object of a scope (each shard of each topology: a count went to whichever object recorded its
 * jti) and the client's counter. Admin path only; the token path never reads counts.
 *
 * A read writes nothing in an object that never counted (expiring-keys.ts, usage-counts.ts), so
 * reading does not give storage, or a place, to objects the client never used.
 */
import { clientObjectName, issuerObjectName, type ReplayScope } from "./replay-topology.js";
import type { ReplayGuard } from "./replay-guard.js";
import { callObject } from "./shards.js";
import type { HourCount } from "./usage-counts.js";

/**
 * How long the admin read waits for one object: longer than the token path's deadline, since a
 * read wakes many objects at once and an operator would rather wait than retry.
 */
export const USAGE_READ_TIMEOUT_MS = 10_000;
/** Objects read at once. */
const READ_CONCURRENCY = 16;

/**
 * The hour counts of `clientId` since `sinceHour` in every object of `scope`, one entry per object
 * that holds any.
 * @throws OAuthError 503 `usage_unavailable` when an object cannot be reached.
 */
export async function replayScopeUsage(
  namespace: DurableObjectNamespace<ReplayGuard>,
  scope: ReplayScope,
  clientId: string,
  sinceHour: number,
  timeoutMs = USAGE_READ_TIMEOUT_MS,
): Promise<HourCount[]> {
  const objects: { name: string; locationHint?: DurableObjectLocationHint }[] = [];
  for (const topology of scope.topologies) {
    for (let shard = 0; shard < topology.shards; shard++) {
      const name = scope.kind === "client" ? clientObjectName(scope.clientId, topology, shard) : issuerObjectName(scope.issuer, topology, shard);
      objects.push(topology.location === undefined ? { name } : { name, locationHint: topology.location });
    }
  }
  const counts: HourCount[] = [];
  for (let i = 0; i < objects.length; i += READ_CONCURRENCY) {
    const batch = objects.slice(i, i + READ_CONCURRENCY);
    const read = await Promise.all(batch.map((object) => callObject({ namespace, ...object, timeoutMs, unavailable: "usage_unavailable" }, (stub) => stub.usage(clientId, sinceHour))));
    counts.push(...read.flat());
  }
  return counts;
}
