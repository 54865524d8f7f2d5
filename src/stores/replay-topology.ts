/**
 * Which ReplayGuard Durable Objects record a single-use `jti` (SPEC §10). An object lives where it
 * was first used, so a client's jtis go to objects of its own, named from its client_id, spread
 * over its shard count and created with its location hint: they are created near that client's
 * first traffic, not wherever another client's first request came from.
 *
 * Topology changes never let one jti be used twice: while an older topology may still be in use
 * or hold a live jti, a first use is recorded under every topology in force, oldest first, so an
 * old and a new version of the code meet, and serialize, on the old object (replay-guard.ts
 * calls the objects in the order given here). Older topologies are a client's previous shard
 * counts and locations (`replay_guard_previous`, each until the time registration computed:
 * oauth/replay-topology-change.ts), also those of a deleted client with the same client_id.
 *
 * Replay scopes: a client's assertion jtis, and the jtis of the DPoP proofs that accompany that
 * client's token requests (keyed by the proof key's thumbprint inside the client's objects), use
 * the client's scope. Federated assertions (SPEC §9) are single use per issuer across every client
 * that trusts it: their scope is the issuer's, objects named from the issuer
 * (`rg-iss:<length>:<issuer>:<shards>:<shard>`), created near that issuer's workloads' first
 * traffic. Their topology is fixed (ISSUER_REPLAY_GUARD_SHARDS, no location hint).
 */
import { fnv1a } from "./shards.js";
import type { PreviousReplayTopology, ReplayGuardLocation, ReplayTopology } from "../core/client-record.js";

/** Most objects one client may spread over; one object serves on the order of 1,000 requests/s. */
export const MAX_REPLAY_GUARD_SHARDS = 256;

/**
 * Shard count written into a client record at creation when the request sets none, so a later
 * default never moves an existing client. Chosen by measurement (bench/README.md, "Replay-guard
 * shards for one busy client").
 */
export const DEFAULT_REPLAY_GUARD_SHARDS = 64;

/** Where the single-use jtis of one scope go: the topologies in force, oldest first. */
export type ReplayScope =
  | { readonly kind: "client"; readonly clientId: string; readonly topologies: readonly ReplayTopology[] }
  | { readonly kind: "issuer"; readonly issuer: string; readonly topologies: readonly ReplayTopology[] };

/**
 * Objects a trusted issuer's single-use jtis are spread over. Object names hold the state:
 * changing it needs the transition rule clients have (replay_guard_previous).
 */
export const ISSUER_REPLAY_GUARD_SHARDS = 64;

/** The scope of a trusted issuer's federated jtis (SPEC §9, §10). */
export function issuerReplayScope(issuer: string): ReplayScope {
  return { kind: "issuer", issuer, topologies: [{ shards: ISSUER_REPLAY_GUARD_SHARDS }] };
}

/** One object to record in, and the location hint it is created with. */
export interface ReplayObject {
  readonly name: string;
  readonly locationHint?: ReplayGuardLocation;
}

/** The replay-guard fields of a client record (stores/clients.ts). */
export interface TopologyFields {
  readonly client_id: string;
  readonly replay_guard_shards: number;
  readonly replay_guard_location?: ReplayGuardLocation;
  readonly replay_guard_previous?: readonly PreviousReplayTopology[];
}

/** A client's current topology. */
export function currentTopology(client: Pick<TopologyFields, "replay_guard_shards" | "replay_guard_location">): ReplayTopology {
  const shards = client.replay_guard_shards;
  return client.replay_guard_location === undefined ? { shards } : { shards, location: client.replay_guard_location };
}

/** The scope of `client`'s jtis at `now` (seconds): its previous topologies still in force, then its current one. */
export function clientReplayScope(client: TopologyFields, now: number): ReplayScope {
  const previous = (client.replay_guard_previous ?? []).filter((p) => p.until > now);
  return { kind: "client", clientId: client.client_id, topologies: [...previous, currentTopology(client)] };
}

/**
 * The objects that record `key` of `scope`, in the order they must be called: each topology oldest
 * first; an object named twice is called once.
 */
export function replayObjects(scope: ReplayScope, key: string): ReplayObject[] {
  const hash = fnv1a(key);
  const objects: ReplayObject[] = [];
  for (const topology of scope.topologies) {
    const shard = hash % topology.shards;
    const name = scope.kind === "client" ? clientObjectName(scope.clientId, topology, shard) : issuerObjectName(scope.issuer, topology, shard);
    if (objects.some((o) => o.name === name)) continue;
    objects.push(topology.location === undefined ? { name } : { name, locationHint: topology.location });
  }
  return objects;
}

/**
 * `rg:<length of client_id>:<client_id>:<shards>:<location or ->:<shard>`: the length prefix
 * keeps names unambiguous whatever the client_id holds; shards and location are part of the name
 * so a new topology gets new objects, created with its own hint.
 */
export function clientObjectName(clientId: string, topology: ReplayTopology, shard: number): string {
  return `rg:${clientId.length}:${clientId}:${topology.shards}:${topology.location ?? "-"}:${shard}`;
}

/** `rg-iss:<length of issuer>:<issuer>:<shards>:<shard>`: a trusted issuer's own objects. */
export function issuerObjectName(issuer: string, topology: ReplayTopology, shard: number): string {
  return `rg-iss:${issuer.length}:${issuer}:${topology.shards}:${shard}`;
}

/** Two topologies that name the same objects. */
export function sameTopology(a: ReplayTopology, b: ReplayTopology): boolean {
  return a.shards === b.shards && a.location === b.location;
}
