/**
 * SPEC §10 as pure rules: how long a topology a client leaves stays in force, which topologies a
 * change keeps, and the order and naming of the objects a jti is recorded in.
 */
import { describe, expect, it } from "vitest";
import { MAX_TOPOLOGIES_IN_TRANSITION, RECORD_PROPAGATION_SECONDS, replayTopologyChange, topologyTransitionSeconds } from "../../src/oauth/replay-topology-change.js";
import { clientReplayScope, replayObjects } from "../../src/stores/replay-topology.js";

const NOW = 1_800_000_000;

describe("topologyTransitionSeconds", () => {
  it("covers the record reaching every isolate, then the longest an assertion can be presented again", () => {
    expect(topologyTransitionSeconds({ assertionMaxLifetimeSeconds: 300, clockSkewSeconds: 15 })).toBe(RECORD_PROPAGATION_SECONDS + 300 + 30);
  });
  it("or a DPoP proof, when assertions live shorter than proofs", () => {
    expect(topologyTransitionSeconds({ assertionMaxLifetimeSeconds: 30, clockSkewSeconds: 15 })).toBe(RECORD_PROPAGATION_SECONDS + 2 * (60 + 15));
  });
});

describe("replayTopologyChange", () => {
  const client = { client_id: "c", replay_guard_shards: 4 };
  it("keeps nothing when the topology stays", () => {
    expect(replayTopologyChange(client, { ...client }, NOW, 450)).toEqual({ ok: true, previous: undefined });
  });
  it("remembers the topology left, with its location, until now + the transition", () => {
    const from = { ...client, replay_guard_location: "oc" as const };
    expect(replayTopologyChange(from, { client_id: "c", replay_guard_shards: 4 }, NOW, 450)).toEqual({ ok: true, previous: [{ shards: 4, location: "oc", until: NOW + 450 }] });
  });
  it("drops previous topologies whose time is over, keeps live ones oldest first", () => {
    const current = { ...client, replay_guard_previous: [{ shards: 1, until: NOW }, { shards: 2, until: NOW + 1 }] };
    expect(replayTopologyChange(current, { client_id: "c", replay_guard_shards: 8 }, NOW, 450)).toEqual({
      ok: true,
      previous: [{ shards: 2, until: NOW + 1 }, { shards: 4, until: NOW + 450 }],
    });
  });
  it(`refuses a change while ${MAX_TOPOLOGIES_IN_TRANSITION} are in transition, saying when the oldest ends`, () => {
    const previous = Array.from({ length: MAX_TOPOLOGIES_IN_TRANSITION }, (_, i) => ({ shards: i + 1, until: NOW + 10 + i }));
    expect(replayTopologyChange({ ...client, replay_guard_previous: previous }, { client_id: "c", replay_guard_shards: 9 }, NOW, 450)).toEqual({ ok: false, busyUntil: NOW + 10 });
  });
});

describe("replayObjects", () => {
  it("each topology oldest first, each object once", () => {
    // A → B → A within the transition: the current topology is also a previous one.
    const record = { client_id: "ab", replay_guard_shards: 1, replay_guard_previous: [{ shards: 1, until: NOW + 9 }, { shards: 2, location: "me" as const, until: NOW + 9 }] };
    const objects = replayObjects(clientReplayScope(record, NOW), "2:abjti");
    expect(objects.map((o) => o.name)).toEqual(["rg:2:ab:1:-:0", expect.stringMatching(/^rg:2:ab:2:me:[01]$/)]);
    expect(objects.map((o) => o.locationHint)).toEqual([undefined, "me"]);
  });
  it("names stay unambiguous whatever the client_id holds", () => {
    const a = replayObjects(clientReplayScope({ client_id: "a:1", replay_guard_shards: 1 }, NOW), "k");
    const b = replayObjects(clientReplayScope({ client_id: "a", replay_guard_shards: 1 }, NOW), "k");
    expect(a[0]!.name).not.toBe(b[0]!.name);
    expect(a[0]!.name.startsWith("rg:3:a:1:")).toBe(true);
  });
  it("a previous topology whose time is over is no longer asked", () => {
    const record = { client_id: "c", replay_guard_shards: 2, replay_guard_previous: [{ shards: 1, until: NOW }] };
    expect(replayObjects(clientReplayScope(record, NOW), "k").map((o) => o.name)).toEqual([expect.stringMatching(/^rg:1:c:2:-:[01]$/)]);
  });
});
