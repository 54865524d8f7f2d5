/**
 * The client management API (SPEC §6): /admin/clients and /admin/clients/:client_id, behind
 * `Authorization: Bearer <ADMIN_TOKEN>`. JSON in and out; each change is one audit log line
 * without secrets.
 */
import { Hono, type Context } from "hono";
import { registrationChecks } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { requireAdminToken } from "../http/admin-auth.js";
import { OAuthError } from "../core/errors.js";
import { ADMIN_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import { applyClientChange, readClient, type AppliedChange } from "../oauth/registration/apply.js";
import { clientInformation } from "../oauth/registration/client-information.js";
import { createdClient, deletedClient, existing, patchedClient, withRotatedSecret } from "../oauth/registration/client-mutations.js";
import { parseClientPatch, parseNewClient, parseNewKey, parseSecretRotation } from "../oauth/registration/input.js";
import { withKeyAdded, withKeyRemoved } from "../oauth/registration/key-mutations.js";
import { federationAdminRoutes } from "./admin-federation.js";
import { keyAdminRoutes } from "./admin-keys.js";

export const adminRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };
const MAX_PAGE_SIZE = 100;

adminRoutes.use("/admin/*", requireAdminToken, limitBody(ADMIN_BODY_LIMIT_BYTES));
// Trusted issuers, federated credentials and explain (SPEC §9), behind the same admin token.
adminRoutes.route("/", federationAdminRoutes);
// The signing-key ring (SPEC §12), behind the same admin token.
adminRoutes.route("/", keyAdminRoutes);

// Every change reads: parse (oauth/registration/input.ts) → mutate (a pure function of the current
// record, rerun on a newer one after a concurrent change) → apply (through the writer of record)
// → audit.
adminRoutes.post("/admin/clients", async (c) => {
  const { stores, secrets, clock } = c.get("server");
  const { input, secret } = await parseNewClient(await readJson(c), registrationChecks(c.get("server")), secrets.secretBox);
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, input.client_id, (current, deleted) => createdClient(current, input, now, c.get("server").settings, deleted));
  audit("client_created", input.client_id, change);
  return c.json(clientInformation(change.after!, secret), 201, { ...NO_STORE, Location: `/admin/clients/${encodeURIComponent(input.client_id)}` });
});

adminRoutes.get("/admin/clients", async (c) => {
  const limitParam = Number(c.req.query("limit") ?? 50);
  const limit = Number.isInteger(limitParam) && limitParam >= 1 ? Math.min(limitParam, MAX_PAGE_SIZE) : 50;
  const page = await c.get("server").stores.clients.list(limit, c.req.query("cursor") || undefined);
  return c.json({ clients: page.clients.map((r) => clientInformation(r)), ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}) }, 200, NO_STORE);
});

adminRoutes.get("/admin/clients/:client_id", async (c) => {
  const record = existing(await readClient(c.get("server").stores.clientWriter, c.req.param("client_id")));
  return c.json(clientInformation(record), 200, NO_STORE);
});

adminRoutes.patch("/admin/clients/:client_id", async (c) => {
  const server = c.get("server");
  const patch = await parseClientPatch(await readJson(c), registrationChecks(server));
  const now = server.clock();
  const change = await applyClientChange(server.stores.clientWriter, c.req.param("client_id"), (current) => patchedClient(current, patch, now, server.settings));
  const info = clientInformation(change.after!);
  audit("client_updated", info.client_id, change);
  return c.json(info, 200, NO_STORE);
});

adminRoutes.delete("/admin/clients/:client_id", async (c) => {
  const clientId = c.req.param("client_id");
  const change = await applyClientChange(c.get("server").stores.clientWriter, clientId, deletedClient);
  audit("client_deleted", clientId, change);
  return c.body(null, 204, NO_STORE);
});

adminRoutes.post("/admin/clients/:client_id/secret", async (c) => {
  const { stores, secrets, clock } = c.get("server");
  const clientId = c.req.param("client_id");
  // The body is optional: without one, the old secret overlaps for the default period.
  const body = c.req.raw.body === null || c.req.header("Content-Length") === "0" ? undefined : await readJson(c);
  const { rotation, secret } = await parseSecretRotation(body, clientId, secrets.secretBox);
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, clientId, (current) => withRotatedSecret(current, rotation, now));
  const info = clientInformation(change.after!, secret);
  audit("client_secret_rotated", info.client_id, change);
  return c.json(info, 200, NO_STORE);
});

// Client key rotation (private_key_jwt with inline jwks): add the new public key, then remove the old.
adminRoutes.post("/admin/clients/:client_id/keys", async (c) => {
  const { stores, clock } = c.get("server");
  const jwk = parseNewKey(await readJson(c));
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, c.req.param("client_id"), (current) => withKeyAdded(current, jwk, now));
  const info = clientInformation(change.after!);
  audit("client_key_added", info.client_id, change, { kid: jwk.kid });
  return c.json(info, 201, NO_STORE);
});

adminRoutes.delete("/admin/clients/:client_id/keys/:kid", async (c) => {
  const { stores, clock } = c.get("server");
  const kid = c.req.param("kid");
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, c.req.param("client_id"), (current) => withKeyRemoved(current, kid, now));
  const info = clientInformation(change.after!);
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
