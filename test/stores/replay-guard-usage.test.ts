/**
 * SPEC §11 in the replay guard: a token's count rides on its jti's first use (in the last object
 * of the scope, in the same synchronous step), a replay is never counted, a count can be taken
 * back, and reading the usage of an object that never counted writes nothing.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hourOf } from "../../src/core/quota.js";
import { replayGuardRegistry } from "../../src/stores/replay-guard.js";
import { clientObjectName, clientReplayScope, replayObjects } from "../../src/stores/replay-topology.js";
import { replayScopeUsage } from "../../src/stores/usage-reader.js";
import { nowSeconds, uniqueId } from "../helpers.js";

const registry = replayGuardRegistry(env.REPLAY_GUARD, 3000);

describe("usage counts in the replay guard", () => {
  it("counts a first use with its jti, never a replay, in one object; uncount takes it back", async () => {
    const clientId = uniqueId("rgu");
    const scope = clientReplayScope({ client_id: clientId, replay_guard_shards: 4 }, 7200);
    const usage = { clientId, now: 7300 };
    expect(await registry.consumeOnce(scope, clientId, "j1", nowSeconds() + 60, usage)).toBe(true);
    expect(await registry.consumeOnce(scope, clientId, "j1", nowSeconds() + 60, usage)).toBe(false);
    expect(await registry.consumeOnce(scope, clientId, "j2", nowSeconds() + 60, usage)).toBe(true);
    expect(await registry.consumeOnce(scope, clientId, "j3", nowSeconds() + 60)).toBe(true);
    expect(await replayScopeUsage(env.REPLAY_GUARD, scope, clientId, 0)).toEqual(expect.arrayContaining([{ hour: hourOf(7300), issued: 1 }]));
    const total = async () => (await replayScopeUsage(env.REPLAY_GUARD, scope, clientId, 0)).reduce((n, h) => n + h.issued, 0);
    expect(await total()).toBe(2);
    await registry.uncount(scope, clientId, "j2", usage);
    expect(await total()).toBe(1);
  });

  it("during a topology change, counts in the last (current) object only, once", async () => {
    const clientId = uniqueId("rgu");
    const scope = clientReplayScope({ client_id: clientId, replay_guard_shards: 8, replay_guard_previous: [{ shards: 2, until: nowSeconds() + 60 }] }, 7200);
    expect(replayObjects(scope, `${clientId.length}:${clientId}j`)).toHaveLength(2);
    expect(await registry.consumeOnce(scope, clientId, "j", nowSeconds() + 60, { clientId, now: 7200 })).toBe(true);
    const previous = { ...scope, topologies: [scope.topologies[0]!] };
    const current = { ...scope, topologies: [scope.topologies[1]!] };
    expect(await replayScopeUsage(env.REPLAY_GUARD, previous, clientId, 0)).toEqual([]);
    expect(await replayScopeUsage(env.REPLAY_GUARD, current, clientId, 0)).toEqual([{ hour: 7200, issued: 1 }]);
  });

  it("a usage read of objects that never recorded anything writes no storage", async () => {
    const clientId = uniqueId("rgu");
    const scope = clientReplayScope({ client_id: clientId, replay_guard_shards: 2 }, 7200);
    expect(await replayScopeUsage(env.REPLAY_GUARD, scope, clientId, 0)).toEqual([]);
    for (const shard of [0, 1]) {
      const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(clientObjectName(clientId, scope.topologies[0]!, shard)));
      const tables = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray());
      expect(tables).toEqual([]);
    }
  });
});
