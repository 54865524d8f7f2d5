/**
 * The usage report (oauth/usage-report.ts) against the real stores, at a `now` after a topology
 * change's transition is over: the counts its previous objects hold stay in the 24 hours.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ClientRecord } from "../../src/core/client-record.js";
import { usageReport } from "../../src/oauth/usage-report.js";
import { quotaCounters } from "../../src/stores/quota-counter.js";
import { replayScopeUsage } from "../../src/stores/usage-reader.js";
import { admin, keyAssertion, nowSeconds, registerKeyClient, tokenWithAssertion } from "../helpers.js";

const deps = {
  quotaCounters: quotaCounters(env.QUOTA_COUNTER, 3000),
  scopeUsage: (scope: Parameters<typeof replayScopeUsage>[1], clientId: string, since: number) => replayScopeUsage(env.REPLAY_GUARD, scope, clientId, since),
};
const total = (report: { hours: readonly { issued: number }[] }) => report.hours.reduce((n, h) => n + h.issued, 0);

describe("usageReport", () => {
  it("keeps counting the objects of a topology the client left, after the record stopped listing it", async () => {
    const client = await registerKeyClient("ES256", { replay_guard_shards: 2 });
    for (let i = 0; i < 3; i++) expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    await admin("PATCH", `/admin/clients/${client.clientId}`, { replay_guard_shards: 4 });
    for (let i = 0; i < 2; i++) expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    const record = (await (await admin("GET", `/admin/clients/${client.clientId}`)).json()) as ClientRecord;
    const previous = record.replay_guard_previous![0]!;
    // After the old topology's transition (still within the report's 24 hours): the record's
    // scope no longer names it, the client's counter does.
    const later = previous.until + 1;
    expect(total(await usageReport(record, later, deps))).toBe(5);
    // And counts each object once while both topologies are in force.
    expect(total(await usageReport(record, nowSeconds(), deps))).toBe(5);
  });
});
