/**
 * The client management API (SPEC §6): /admin/clients and /admin/clients/:client_id, behind
 * `Authorization: Bearer <ADMIN_TOKEN>`. JSON in and out; each change is one audit log line
 * without secrets.
 */
import { Hono } from "hono";
import { registrationChecks } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { requireAdminToken } from "../http/admin-auth.js";
import { OAuthError } from "../core/errors.js";
import { answerClientChange, audit, listingPage, NO_STORE, readAdminJson } from "../http/admin.js";
import { ADMIN_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import { applyClientChange, readClient } from "../oauth/registration/apply.js";
import { clientInformation } from "../oauth/registration/client-information.js";
import { createdClient, deletedClient, existing, patchedClient, withRotatedSecret } from "../oauth/registration/client-mutations.js";
import { parseClientPatch, parseNewClient, parseNewKey, parseSecretRotation } from "../oauth/registration/input.js";
import { withKeyAdded, withKeyRemoved } from "../oauth/registration/key-mutations.js";
import { federationAdminRoutes } from "./admin-federation.js";
import { usageAdminRoutes } from "./admin-usage.js";
import { rememberLeftTopologies } from "../oauth/usage-report.js";
import { background } from "../http/decision.js";
import { keyAdminRoutes } from "./admin-keys.js";

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.use("/admin/*", requireAdminToken, limitBody(ADMIN_BODY_LIMIT_BYTES));
// Trusted issuers, federated credentials and explain (SPEC §9), behind the same admin token.
adminRoutes.route("/", federationAdminRoutes);
// Usage and quota state (SPEC §11).
adminRoutes.route("/", usageAdminRoutes);
// The signing-key ring (SPEC §12), behind the same admin token.
adminRoutes.route("/", keyAdminRoutes);

// Every change reads: parse (oauth/registration/input.ts) → mutate (a pure function of the current
// record, rerun on a newer one after a concurrent change) → apply (through the writer of record)
// → audit.
adminRoutes.post("/admin/clients", async (c) => {
  const { stores, secrets, clock } = c.get("server");
  const { input, secret } = await parseNewClient(await readAdminJson(c, "client_metadata"), registrationChecks(c.get("server")), secrets.secretBox);
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, input.client_id, (current, deleted) => createdClient(current, input, now, c.get("server").settings, deleted));
  audit("client_created", { client_id: input.client_id }, change);
  // SPEC §11: a re-created client_id's inherited topologies stay readable by its usage report.
  background(c)(rememberLeftTopologies(change.after!, stores));
  return c.json(clientInformation(change.after!, secret), 201, { ...NO_STORE, Location: `/admin/clients/${encodeURIComponent(input.client_id)}` });
});

adminRoutes.get("/admin/clients", async (c) => {
  const { limit, cursor } = listingPage(c);
  const page = await c.get("server").stores.clients.list(limit, cursor);
  return c.json({ clients: page.clients.map((r) => clientInformation(r)), ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}) }, 200, NO_STORE);
});

adminRoutes.get("/admin/clients/:client_id", async (c) => {
  const record = existing(await readClient(c.get("server").stores.clientWriter, c.req.param("client_id")));
  return c.json(clientInformation(record), 200, NO_STORE);
});

adminRoutes.patch("/admin/clients/:client_id", async (c) => {
  const server = c.get("server");
  const patch = await parseClientPatch(await readAdminJson(c, "client_metadata"), registrationChecks(server));
  return answerClientChange(c, "client_updated", (current, now) => patchedClient(current, patch, now, server.settings));
});

adminRoutes.delete("/admin/clients/:client_id", async (c) => {
  const clientId = c.req.param("client_id");
  const change = await applyClientChange(c.get("server").stores.clientWriter, clientId, deletedClient);
  audit("client_deleted", { client_id: clientId }, change);
  return c.body(null, 204, NO_STORE);
});

adminRoutes.post("/admin/clients/:client_id/secret", async (c) => {
  // The body is optional: without one, the old secret overlaps for the default period.
  const body = await readAdminJson(c, "client_metadata", { optional: true });
  const { rotation, secret } = await parseSecretRotation(body, c.req.param("client_id"), c.get("server").secrets.secretBox);
  return answerClientChange(c, "client_secret_rotated", (current, now) => withRotatedSecret(current, rotation, now), { secret });
});

// Client key rotation (private_key_jwt with inline jwks): add the new public key, then remove the old.
adminRoutes.post("/admin/clients/:client_id/keys", async (c) => {
  const jwk = parseNewKey(await readAdminJson(c, "client_metadata"));
  return answerClientChange(c, "client_key_added", (current, now) => withKeyAdded(current, jwk, now), { status: 201, details: { kid: jwk.kid } });
});

adminRoutes.delete("/admin/clients/:client_id/keys/:kid", async (c) => {
  const kid = c.req.param("kid");
  return answerClientChange(c, "client_key_removed", (current, now) => withKeyRemoved(current, kid, now), { details: { kid } });
});

/**
 * Local dev only (src/local-dev.ts): the demo clients and the demo private key, so `npm start` can
 * print a working walk-through. Everywhere else 404.
 */
adminRoutes.get("/admin/local-dev", async (c) => {
  const server = c.get("server");
  if (server.localDevWalkthrough === undefined) throw new OAuthError("route_not_found");
  return c.json({ issuer: server.issuer, ...(await server.localDevWalkthrough()) }, 200, NO_STORE);
});
