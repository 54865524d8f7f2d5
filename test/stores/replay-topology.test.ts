/** SPEC §10: the order and naming of the Durable Objects a jti is recorded in, old topologies first. */
import { describe, expect, it } from "vitest";
import { clientReplayScope, replayObjects } from "../../src/stores/replay-topology.js";

const NOW = 1_800_000_000;

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
