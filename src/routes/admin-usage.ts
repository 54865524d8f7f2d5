/**
 * GET /admin/clients/:client_id/usage (SPEC §11), behind the admin token (mounted by admin.ts):
 * exact issued counts of the last 24 hours and the quota window's state.
 */
import { Hono } from "hono";
import { NO_STORE } from "../http/admin.js";
import type { AppEnv } from "../http/app-types.js";
import { readClient } from "../oauth/registration/apply.js";
import { existing } from "../oauth/registration/client-mutations.js";
import { usageReport } from "../oauth/usage-report.js";
import { replayScopeUsage } from "../stores/usage-reader.js";

export const usageAdminRoutes = new Hono<AppEnv>();

usageAdminRoutes.get("/admin/clients/:client_id/usage", async (c) => {
  const server = c.get("server");
  const client = existing(await readClient(server.stores.clientWriter, c.req.param("client_id")));
  const report = await usageReport(client, server.clock(), {
    quotaCounters: server.stores.quotaCounters,
    scopeUsage: (scope, clientId, since) => replayScopeUsage(server.stores.replayGuards, scope, clientId, since),
  });
  return c.json(report, 200, NO_STORE);
});
