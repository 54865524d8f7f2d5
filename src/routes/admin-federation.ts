/**
 * The federation part of the management API (SPEC §9), mounted inside routes/admin.ts behind the
 * admin bearer token: `/admin/trusted-issuers[/:issuer]` (the issuer URL-encoded in the path).
 * `/admin/clients/:id/federated-credentials[/:name]` and `/admin/clients/:id/federation/explain`.
 * Each change (and each explain) is one audit log line without key material or tokens.
 */
import { Hono } from "hono";
import { registrationChecks } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { answerClientChange, audit, listingPage, NO_STORE, readAdminJson } from "../http/admin.js";
import { explainFederatedAssertion } from "../oauth/federation/explain.js";
import { TOKEN_PATH } from "./token.js";
import { recheckCredentialsNaming } from "../oauth/federation/credential-checks.js";
import { CreateTrustedIssuerSchema, parseTrustedIssuerInput, refuseOwnIssuer, trustedIssuerRecord, UpdateTrustedIssuerSchema } from "../oauth/federation/trusted-issuer-metadata.js";
import { applyTrustedIssuerChange, readClient } from "../oauth/registration/apply.js";
import { existing } from "../oauth/registration/client-mutations.js";
import { withCredentialAdded, withCredentialRemoved } from "../oauth/registration/credential-mutations.js";
import { parseFederatedCredential } from "../oauth/registration/input.js";
import { applyCheckedIssuerPatch, checkedIssuerId, createdIssuer, deletedIssuer, existingIssuer } from "../oauth/registration/trusted-issuer-mutations.js";

export const federationAdminRoutes = new Hono<AppEnv>();

const ISSUERS = "/admin/trusted-issuers";

// Changes read as in routes/admin.ts: parse → mutate → apply → audit.
federationAdminRoutes.post(ISSUERS, async (c) => {
  const { stores, addressPolicy, clock, issuer } = c.get("server");
  const record = trustedIssuerRecord(parseTrustedIssuerInput(CreateTrustedIssuerSchema, await readAdminJson(c, "request")), addressPolicy, clock());
  refuseOwnIssuer(record.issuer, issuer);
  // Credentials of an issuer deleted and created again still name it: they are held to the new terms.
  await recheckCredentialsNaming(record, stores.clients, issuer);
  const change = await applyTrustedIssuerChange(stores.trustedIssuerWriter, record.issuer, (current) => createdIssuer(current, record));
  audit("trusted_issuer_created", { issuer: record.issuer }, change);
  return c.json(record, 201, { ...NO_STORE, Location: `${ISSUERS}/${encodeURIComponent(record.issuer)}` });
});

federationAdminRoutes.get(ISSUERS, async (c) => {
  const { limit, cursor } = listingPage(c);
  return c.json(await c.get("server").stores.trustedIssuers.list(limit, cursor), 200, NO_STORE);
});

federationAdminRoutes.get(`${ISSUERS}/:issuer`, async (c) => {
  const issuer = checkedIssuerId(c.req.param("issuer"));
  return c.json(existingIssuer((await c.get("server").stores.trustedIssuerWriter.read(issuer)).record), 200, NO_STORE);
});

federationAdminRoutes.patch(`${ISSUERS}/:issuer`, async (c) => {
  const { stores, addressPolicy, clock, issuer } = c.get("server");
  const patch = parseTrustedIssuerInput(UpdateTrustedIssuerSchema, await readAdminJson(c, "request"));
  const context = { writer: stores.trustedIssuerWriter, clients: stores.clients, serverIssuer: issuer, addressPolicy, now: clock() };
  const change = await applyCheckedIssuerPatch(context, checkedIssuerId(c.req.param("issuer")), patch);
  const record = change.after!;
  audit("trusted_issuer_updated", { issuer: record.issuer }, change);
  return c.json(record, 200, NO_STORE);
});

federationAdminRoutes.delete(`${ISSUERS}/:issuer`, async (c) => {
  const issuer = c.req.param("issuer");
  const change = await applyTrustedIssuerChange(c.get("server").stores.trustedIssuerWriter, checkedIssuerId(issuer), deletedIssuer);
  audit("trusted_issuer_deleted", { issuer }, change);
  return c.body(null, 204, NO_STORE);
});

// Federated credentials of one client, added and removed like its keys.
federationAdminRoutes.post("/admin/clients/:client_id/federated-credentials", async (c) => {
  const credential = await parseFederatedCredential(await readAdminJson(c, "client_metadata"), registrationChecks(c.get("server")));
  return answerClientChange(c, "federated_credential_added", (current, now) => withCredentialAdded(current, credential, now), { status: 201, details: { credential: credential.name } });
});

federationAdminRoutes.delete("/admin/clients/:client_id/federated-credentials/:name", async (c) => {
  const name = c.req.param("name");
  return answerClientChange(c, "federated_credential_removed", (current, now) => withCredentialRemoved(current, name, now), { details: { credential: name } });
});

// Which credential a token would match, consuming nothing and issuing nothing (SPEC §9).
federationAdminRoutes.post("/admin/clients/:client_id/federation/explain", async (c) => {
  const server = c.get("server");
  const clientId = c.req.param("client_id");
  const client = existing(await readClient(server.stores.clientWriter, clientId));
  const { trustedIssuers, issuerKeys, clients, jwtBearerIndex } = server.stores;
  const answer = await explainFederatedAssertion(await readAdminJson(c, "client_metadata"), client, { trustedIssuers, issuerKeys, clients, jwtBearerClients: jwtBearerIndex }, {
    now: server.clock(),
    clockSkewSeconds: server.settings.clockSkewSeconds,
    issuer: server.issuer,
    // SPEC §13: the JWT bearer grant's aud may be the token endpoint URL.
    endpointUrl: `${server.issuer}${TOKEN_PATH}`,
  });
  // An admin action: logged with the outcome, never the token.
  audit("federation_explained", { client_id: clientId }, undefined, { issuer: answer.issuer?.slice(0, 400) ?? null, matched: answer.matched });
  return c.json(answer, 200, NO_STORE);
});
