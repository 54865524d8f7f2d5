/**
 * The federation part of the management API (SPEC §9), mounted inside routes/admin.ts behind the
 * admin bearer token: `/admin/trusted-issuers[/:issuer]` (the issuer URL-encoded in the path).
 * `/admin/clients/:id/federated-credentials[/:name]` and `/admin/clients/:id/federation/explain`.
 * Each change (and each explain) is one audit log line without key material or tokens.
 */
import { Hono, type Context } from "hono";
import { registrationChecks } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { OAuthError } from "../core/errors.js";
import { explainFederatedAssertion } from "../oauth/federation/explain.js";
import { TOKEN_PATH } from "./token.js";
import { CreateTrustedIssuerSchema, parseTrustedIssuerInput, trustedIssuerRecord, UpdateTrustedIssuerSchema } from "../oauth/federation/trusted-issuer-metadata.js";
import { applyClientChange, applyTrustedIssuerChange, readClient } from "../oauth/registration/apply.js";
import { clientInformation } from "../oauth/registration/client-information.js";
import { existing } from "../oauth/registration/client-mutations.js";
import { withCredentialAdded, withCredentialRemoved } from "../oauth/registration/credential-mutations.js";
import { parseFederatedCredential } from "../oauth/registration/input.js";
import { checkedIssuerId, createdIssuer, deletedIssuer, existingIssuer, patchedIssuer } from "../oauth/registration/trusted-issuer-mutations.js";

export const federationAdminRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };
const MAX_PAGE_SIZE = 100;
const ISSUERS = "/admin/trusted-issuers";

// Changes read as in routes/admin.ts: parse → mutate → apply → audit.
federationAdminRoutes.post(ISSUERS, async (c) => {
  const { stores, loopbackUrlsAllowed, clock } = c.get("server");
  const record = trustedIssuerRecord(parseTrustedIssuerInput(CreateTrustedIssuerSchema, await readJson(c)), loopbackUrlsAllowed, clock());
  const change = await applyTrustedIssuerChange(stores.trustedIssuerWriter, record.issuer, (current) => createdIssuer(current, record));
  audit("trusted_issuer_created", { issuer: record.issuer, version: change.version, changed: change.changed });
  return c.json(record, 201, { ...NO_STORE, Location: `${ISSUERS}/${encodeURIComponent(record.issuer)}` });
});

federationAdminRoutes.get(ISSUERS, async (c) => {
  const limitParam = Number(c.req.query("limit") ?? 50);
  const limit = Number.isInteger(limitParam) && limitParam >= 1 ? Math.min(limitParam, MAX_PAGE_SIZE) : 50;
  return c.json(await c.get("server").stores.trustedIssuers.list(limit, c.req.query("cursor") || undefined), 200, NO_STORE);
});

federationAdminRoutes.get(`${ISSUERS}/:issuer`, async (c) => {
  const issuer = checkedIssuerId(c.req.param("issuer"));
  return c.json(existingIssuer((await c.get("server").stores.trustedIssuerWriter.read(issuer)).record), 200, NO_STORE);
});

federationAdminRoutes.patch(`${ISSUERS}/:issuer`, async (c) => {
  const { stores, loopbackUrlsAllowed, clock } = c.get("server");
  const patch = parseTrustedIssuerInput(UpdateTrustedIssuerSchema, await readJson(c));
  const now = clock();
  const change = await applyTrustedIssuerChange(stores.trustedIssuerWriter, checkedIssuerId(c.req.param("issuer")), (current) => patchedIssuer(current, patch, loopbackUrlsAllowed, now));
  const record = change.after!;
  audit("trusted_issuer_updated", { issuer: record.issuer, version: change.version, changed: change.changed });
  return c.json(record, 200, NO_STORE);
});

federationAdminRoutes.delete(`${ISSUERS}/:issuer`, async (c) => {
  const issuer = c.req.param("issuer");
  const change = await applyTrustedIssuerChange(c.get("server").stores.trustedIssuerWriter, checkedIssuerId(issuer), deletedIssuer);
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
  const credential = await parseFederatedCredential(await readClientJson(c), registrationChecks(server));
  const now = server.clock();
  const change = await applyClientChange(server.stores.clientWriter, c.req.param("client_id"), (current) => withCredentialAdded(current, credential, now));
  const info = clientInformation(change.after!);
  audit("federated_credential_added", { client_id: info.client_id, version: change.version, credential: credential.name });
  return c.json(info, 201, NO_STORE);
});

federationAdminRoutes.delete("/admin/clients/:client_id/federated-credentials/:name", async (c) => {
  const { stores, clock } = c.get("server");
  const name = c.req.param("name");
  const now = clock();
  const change = await applyClientChange(stores.clientWriter, c.req.param("client_id"), (current) => withCredentialRemoved(current, name, now));
  const info = clientInformation(change.after!);
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
  const client = existing(await readClient(server.stores.clientWriter, clientId));
  const { trustedIssuers, issuerKeys, clients, jwtBearerIndex } = server.stores;
  const answer = await explainFederatedAssertion(await readClientJson(c), client, { trustedIssuers, issuerKeys, clients, jwtBearerClients: jwtBearerIndex }, {
    now: server.clock(),
    clockSkewSeconds: server.settings.clockSkewSeconds,
    issuer: server.issuer,
    // SPEC §13: the JWT bearer grant's aud may be the token endpoint URL.
    endpointUrl: `${server.issuer}${TOKEN_PATH}`,
  });
  // An admin action: logged with the outcome, never the token.
  audit("federation_explained", { client_id: clientId, issuer: answer.issuer?.slice(0, 400) ?? null, matched: answer.matched });
  return c.json(answer, 200, NO_STORE);
});
