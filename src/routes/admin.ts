/**
 * The client management API (SPEC §6): /admin/clients and /admin/clients/:client_id, behind
 * `Authorization: Bearer <ADMIN_TOKEN>`. JSON in and out; each change is one audit log line
 * without secrets.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../http/app-types.js";
import { requireAdminToken } from "../http/admin-auth.js";
import { OAuthError } from "../core/errors.js";
import { ADMIN_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import type { AppliedChange } from "../oauth/client-changes.js";
import { addClientKey, removeClientKey } from "../oauth/client-key-management.js";
import { clientInformation, deleteClient, registerClient, requireClient, rotateClientSecret, updateClient } from "../oauth/client-registration.js";
import { federationAdminRoutes } from "./admin-federation.js";

export const adminRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };
const MAX_PAGE_SIZE = 100;

adminRoutes.use("/admin/*", requireAdminToken, limitBody(ADMIN_BODY_LIMIT_BYTES));
// Trusted issuers, federated credentials and explain (SPEC §9), behind the same admin token.
adminRoutes.route("/", federationAdminRoutes);

adminRoutes.post("/admin/clients", async (c) => {
  const server = c.get("server");
  const { info, change } = await registerClient(await readJson(c), server, server.clock());
  audit("client_created", info.client_id, change);
  return c.json(info, 201, { ...NO_STORE, Location: `/admin/clients/${encodeURIComponent(info.client_id)}` });
});

adminRoutes.get("/admin/clients", async (c) => {
  const limitParam = Number(c.req.query("limit") ?? 50);
  const limit = Number.isInteger(limitParam) && limitParam >= 1 ? Math.min(limitParam, MAX_PAGE_SIZE) : 50;
  const page = await c.get("server").clients.list(limit, c.req.query("cursor") || undefined);
  return c.json({ clients: page.clients.map((r) => clientInformation(r)), ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}) }, 200, NO_STORE);
});

adminRoutes.get("/admin/clients/:client_id", async (c) => {
  const record = await requireClient(c.req.param("client_id"), c.get("server"));
  return c.json(clientInformation(record), 200, NO_STORE);
});

adminRoutes.patch("/admin/clients/:client_id", async (c) => {
  const server = c.get("server");
  const { info, change } = await updateClient(c.req.param("client_id"), await readJson(c), server, server.clock());
  audit("client_updated", info.client_id, change);
  return c.json(info, 200, NO_STORE);
});

adminRoutes.delete("/admin/clients/:client_id", async (c) => {
  const clientId = c.req.param("client_id");
  const change = await deleteClient(clientId, c.get("server"));
  audit("client_deleted", clientId, change);
  return c.body(null, 204, NO_STORE);
});

adminRoutes.post("/admin/clients/:client_id/secret", async (c) => {
  const server = c.get("server");
  // The body is optional: without one, the old secret overlaps for the default period.
  const input = c.req.raw.body === null || c.req.header("Content-Length") === "0" ? undefined : await readJson(c);
  const { info, change } = await rotateClientSecret(c.req.param("client_id"), input, server, server.clock());
  audit("client_secret_rotated", info.client_id, change);
  return c.json(info, 200, NO_STORE);
});

// Client key rotation (private_key_jwt with inline jwks): add the new public key, then remove the old.
adminRoutes.post("/admin/clients/:client_id/keys", async (c) => {
  const server = c.get("server");
  const { info, change } = await addClientKey(c.req.param("client_id"), await readJson(c), server, server.clock());
  const kid = change.after?.jwks?.keys.at(-1)?.kid;
  audit("client_key_added", info.client_id, change, { kid });
  return c.json(info, 201, NO_STORE);
});

adminRoutes.delete("/admin/clients/:client_id/keys/:kid", async (c) => {
  const server = c.get("server");
  const kid = c.req.param("kid");
  const { info, change } = await removeClientKey(c.req.param("client_id"), kid, server, server.clock());
  audit("client_key_removed", info.client_id, change, { kid });
  return c.json(info, 200, NO_STORE);
});

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw new OAuthError("admin_content_type");
  try {
    return await c.req.json();
  } catch {
    throw new OAuthError("admin_json_invalid");
  }
}

/**
 * One structured line per admin change: what happened to which client, the record's new version
 * in its writer of record and the names of the changed fields. Never a value that could be secret
 * (no secret, sealed secret, key material or token).
 */
function audit(event: string, clientId: string, change: AppliedChange, details: Record<string, string | undefined> = {}): void {
  console.log(JSON.stringify({ audit: event, client_id: clientId, version: change.version, changed: change.changed, ...details, at: new Date().toISOString() }));
}

/**
 * Local dev only (src/local-dev.ts): the demo clients and the demo private key, so `npm start` can
 * print a working walk-through. Everywhere else 404.
 */
adminRoutes.get("/admin/local-dev", async (c) => {
  const server = c.get("server");
  if (server.localDevWalkthrough === undefined) throw new OAuthError("route_not_found");
  return c.json({ issuer: server.issuer, ...(await server.localDevWalkthrough()) }, 200, NO_STORE);
});
