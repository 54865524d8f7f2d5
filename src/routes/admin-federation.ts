/**
 * The federation part of the management API (SPEC §9), mounted inside routes/admin.ts behind the
 * admin bearer token: `/admin/trusted-issuers[/:issuer]` (the issuer URL-encoded in the path).
 * `/admin/clients/:id/federated-credentials[/:name]` and `/admin/clients/:id/federation/explain`.
 * Each change (and each explain) is one audit log line without key material or tokens.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../http/app-types.js";
import { OAuthError } from "../core/errors.js";
import { addFederatedCredential, removeFederatedCredential } from "../oauth/federation/credential-management.js";
import { requireClient } from "../oauth/client-registration.js";
import { explainFederatedAssertion } from "../oauth/federation/explain.js";
import { createTrustedIssuer, deleteTrustedIssuer, requireTrustedIssuer, updateTrustedIssuer } from "../oauth/federation/trusted-issuer-registration.js";

export const federationAdminRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };
const MAX_PAGE_SIZE = 100;
const ISSUERS = "/admin/trusted-issuers";

federationAdminRoutes.post(ISSUERS, async (c) => {
  const server = c.get("server");
  const { record, change } = await createTrustedIssuer(await readJson(c), server, server.clock());
  audit("trusted_issuer_created", { issuer: record.issuer, version: change.version, changed: change.changed });
  return c.json(record, 201, { ...NO_STORE, Location: `${ISSUERS}/${encodeURIComponent(record.issuer)}` });
});

federationAdminRoutes.get(ISSUERS, async (c) => {
  const limitParam = Number(c.req.query("limit") ?? 50);
  const limit = Number.isInteger(limitParam) && limitParam >= 1 ? Math.min(limitParam, MAX_PAGE_SIZE) : 50;
  return c.json(await c.get("server").trustedIssuers.list(limit, c.req.query("cursor") || undefined), 200, NO_STORE);
});

federationAdminRoutes.get(`${ISSUERS}/:issuer`, async (c) => {
  return c.json(await requireTrustedIssuer(c.req.param("issuer"), c.get("server")), 200, NO_STORE);
});

federationAdminRoutes.patch(`${ISSUERS}/:issuer`, async (c) => {
  const server = c.get("server");
  const { record, change } = await updateTrustedIssuer(c.req.param("issuer"), await readJson(c), server, server.clock());
  audit("trusted_issuer_updated", { issuer: record.issuer, version: change.version, changed: change.changed });
  return c.json(record, 200, NO_STORE);
});

federationAdminRoutes.delete(`${ISSUERS}/:issuer`, async (c) => {
  const issuer = c.req.param("issuer");
  const change = await deleteTrustedIssuer(issuer, c.get("server"));
  audit("trusted_issuer_deleted", { issuer, version: change.version });
  return c.body(null, 204, NO_STORE);
});

/** The reasons a bad JSON body fails with: 400 `invalid_request` here (SPEC §9), `invalid_client_metadata` for client fields. */
const TRUSTED_ISSUER_BODY = { contentType: "trusted_issuer_content_type", json: "trusted_issuer_json_invalid" } as const;
const CLIENT_BODY = { contentType: "admin_content_type", json: "admin_json_invalid" } as const;

/** A JSON body; anything else fails with `reasons`. */
async function readJson(c: Context<AppEnv>, reasons: typeof TRUSTED_ISSUER_BODY | typeof CLIENT_BODY = TRUSTED_ISSUER_BODY): Promise<unknown> {
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw new OAuthError(reasons.contentType);
  try {
    return await c.req.json();
  } catch {
    throw new OAuthError(reasons.json);
  }
}

/** One structured line per admin action: never a token, key or secret. */
function audit(event: string, details: Record<string, unknown>): void {
  console.log(JSON.stringify({ audit: event, ...details, at: new Date().toISOString() }));
}

// Federated credentials of one client, added and removed like its keys.
federationAdminRoutes.post("/admin/clients/:client_id/federated-credentials", async (c) => {
  const server = c.get("server");
  const { info, change } = await addFederatedCredential(c.req.param("client_id"), await readClientJson(c), server, server.clock());
  const name = change.after?.federated_credentials?.at(-1)?.name;
  audit("federated_credential_added", { client_id: info.client_id, version: change.version, credential: name });
  return c.json(info, 201, NO_STORE);
});

federationAdminRoutes.delete("/admin/clients/:client_id/federated-credentials/:name", async (c) => {
  const server = c.get("server");
  const name = c.req.param("name");
  const { info, change } = await removeFederatedCredential(c.req.param("client_id"), name, server, server.clock());
  audit("federated_credential_removed", { client_id: info.client_id, version: change.version, credential: name });
  return c.json(info, 200, NO_STORE);
});

/** Client fields are RFC 7591 metadata: a bad body is `invalid_client_metadata`, as in routes/admin.ts. */
function readClientJson(c: Context<AppEnv>): Promise<unknown> {
  return readJson(c, CLIENT_BODY);
}

// Which credential a token would match, consuming nothing and issuing nothing (SPEC §9).
federationAdminRoutes.post("/admin/clients/:client_id/federation/explain", async (c) => {
  const server = c.get("server");
  const clientId = c.req.param("client_id");
  const client = await requireClient(clientId, server);
  const answer = await explainFederatedAssertion(await readClientJson(c), client, server, {
    now: server.clock(),
    clockSkewSeconds: server.settings.clockSkewSeconds,
    issuer: server.issuer,
  });
  // An admin action: logged with the outcome, never the token.
  audit("federation_explained", { client_id: clientId, issuer: answer.issuer?.slice(0, 400) ?? null, matched: answer.matched });
  return c.json(answer, 200, NO_STORE);
});
