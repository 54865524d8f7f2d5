/**
 * The client's counter (stores/quota-counter.ts) directly: one decision per call, counted in the
 * same step, windows by epoch, counts taken back, reads that write nothing.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TokenQuota } from "../../src/core/quota.js";
import { quotaCounterName, quotaCounters } from "../../src/stores/quota-counter.js";
import { uniqueId } from "../helpers.js";

const counters = quotaCounters(env.QUOTA_COUNTER, 3000);
const q = (limit: number, mode: TokenQuota["mode"] = "enforce"): TokenQuota => ({ limit, window: 60, mode });

describe("QuotaCounter", () => {
  it("decides within up to the limit, then exceeded, and counts refusals apart", async () => {
    const id = uniqueId("qc");
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push((await counters.take({ client_id: id }, q(2), 120)).outcome);
    expect(outcomes).toEqual(["within", "within", "exceeded", "exceeded"]);
    expect((await counters.read({ client_id: id }, 60, 150, 0)).window).toEqual({ start: 120, end: 180, issued: 2, refused_quota: 2, over_limit: 0 });
  });

  it("starts over in the next window, and a window length of its own", async () => {
    const id = uniqueId("qc");
    expect((await counters.take({ client_id: id }, q(1), 179)).outcome).toBe("within");
    expect((await counters.take({ client_id: id }, q(1), 179)).outcome).toBe("exceeded");
    expect((await counters.take({ client_id: id }, q(1), 180)).outcome).toBe("within");
    expect((await counters.take({ client_id: id }, { limit: 1, window: 120, mode: "enforce" }, 180)).outcome).toBe("within");
  });

  it("observe mode issues beyond the limit and marks it; giveBack takes a token back", async () => {
    const id = uniqueId("qc");
    await counters.take({ client_id: id }, q(1, "observe"), 60);
    const over = await counters.take({ client_id: id }, q(1, "observe"), 60);
    expect(over).toEqual({ outcome: "exceeded_observed", window: { start: 60, end: 120, issued: 2, refused_quota: 0, over_limit: 1 } });
    await counters.giveBack({ client_id: id }, q(1, "observe"), over, 60);
    expect((await counters.read({ client_id: id }, 60, 60, 0)).window).toMatchObject({ issued: 1, over_limit: 0 });
    expect((await counters.read({ client_id: id }, null, 60, 0)).hours).toEqual([{ hour: 0, issued: 1 }]);
  });

  it("counts tokens without a decision in their hour, and a read of a fresh counter writes nothing", async () => {
    const id = uniqueId("qc");
    const stub = env.QUOTA_COUNTER.get(env.QUOTA_COUNTER.idFromName(quotaCounterName(id)));
    expect(await counters.read({ client_id: id }, 60, 7200, 0)).toEqual({ window: { start: 7200, end: 7260, issued: 0, refused_quota: 0, over_limit: 0 }, hours: [], topologies: [] });
    const tables = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray());
    expect(tables).toEqual([]);
    await counters.count({ client_id: id }, 7300, 1);
    await counters.count({ client_id: id }, 7300, 1);
    await counters.count({ client_id: id }, 10_800, 1);
    expect((await counters.read({ client_id: id }, null, 10_800, 3600)).hours).toEqual([{ hour: 7200, issued: 2 }, { hour: 10_800, issued: 1 }]);
    expect((await counters.read({ client_id: id }, null, 10_800, 10_800)).hours).toEqual([{ hour: 10_800, issued: 1 }]);
  });

  it("remembers the replay-guard topologies a client left until each one's until, the latest until winning", async () => {
    const client = { client_id: uniqueId("qc") };
    await counters.rememberTopologies(client, [{ shards: 2, until: 1000 }, { shards: 8, location: "weur", until: 2000 }]);
    await counters.rememberTopologies(client, [{ shards: 2, until: 500 }]);
    expect((await counters.read(client, null, 999, 0)).topologies).toEqual([{ shards: 2 }, { shards: 8, location: "weur" }]);
    expect((await counters.read(client, null, 1000, 0)).topologies).toEqual([{ shards: 8, location: "weur" }]);
  });

  it("names one counter per client_id, length-prefixed", () => {
    expect(quotaCounterName("a:1")).toBe("quota:3:a:1");
    expect(quotaCounterName("a")).not.toBe(quotaCounterName("a:"));
  });
});
