/**
 * The SPEC §13 grants end to end, from outside the Worker, with real clients (issue 22 item 4):
 * - a workload (MCP SEP-1933, workload identity federation) gets a token for an MCP server with
 *   the JWT bearer grant, through a plain fetch client written to SEP-1933's text (the MCP
 *   TypeScript SDK 1.32.2 has no workload-identity provider): the MCP server's RFC 9728 metadata →
 *   the authorization server's RFC 8414 metadata (grant_types_supported) → the token request with
 *   its platform JWT as `assertion` and the server as `resource` → an MCP call with the SDK client;
 * - the MCP server exchanges that token for an upstream API with openid-client's
 *   genericGrantRequest (RFC 8693); the upstream verifies it with edge-token-service/resource and
 *   sees `act`, and refuses it online once the workload's token is revoked.
 * The workload's issuer is a fake OIDC issuer on a loopback port (discovery + JWKS over http, local dev only).
 */
import { createServer, type Server } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import * as oidc from "openid-client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { verifyAccessToken } from "edge-token-service/resource";
import { startLocalWorker, type LocalWorker } from "./support/local-worker.js";
import { startMcpServer, type RunningMcpServer } from "./support/mcp-server.js";
import { PORTS } from "./support/ports.js";

const WORKER_PORT = PORTS.grantsWorker;
const ISSUER_PORT = PORTS.grantsIssuer;
const MCP_PORT = PORTS.grantsMcpServer;
const WORKLOAD_ISSUER = `http://127.0.0.1:${ISSUER_PORT}`;
const ADMIN_TOKEN = "e2e-grants-admin-token-0123456789abcdef";
const SUB = "system:serviceaccount:agents:orders-agent";
const UPSTREAM = "https://orders.example/api";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

let worker: LocalWorker;
let mcp: RunningMcpServer;
let issuerServer: Server;
let workloadToken: (overrides?: Record<string, unknown>) => Promise<string>;
const toolCalls: string[] = [];

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "platform-1", alg: "ES256", use: "sig" };
  issuerServer = createServer((req, res) => {
    const body = req.url === "/.well-known/openid-configuration" ? { issuer: WORKLOAD_ISSUER, jwks_uri: `${WORKLOAD_ISSUER}/jwks` } : req.url === "/jwks" ? { keys: [jwk] } : undefined;
    res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => issuerServer.listen(ISSUER_PORT, "127.0.0.1", resolve));
  worker = await startLocalWorker({ port: WORKER_PORT, vars: { ADMIN_TOKEN } });
  mcp = await startMcpServer({ port: MCP_PORT, issuer: worker.url, onToolCall: (clientId) => toolCalls.push(clientId) });
  // A Kubernetes-style projected service-account token whose audience is the token service.
  workloadToken = (overrides = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: WORKLOAD_ISSUER, sub: SUB, aud: worker.url, iat: now, exp: now + 300, jti: crypto.randomUUID(), ...overrides })
      .setProtectedHeader({ alg: "ES256", kid: "platform-1", typ: "JWT" })
      .sign(privateKey);
  };
});
afterAll(async () => {
  await mcp?.close();
  await worker?.stop();
  await new Promise((resolve) => issuerServer?.close(resolve));
});

async function adminCall(method: string, path: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${worker.url}${path}`, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, any>;
}

/**
 * A workload's MCP client, written to SEP-1933's text: find the MCP server's authorization server
 * (RFC 9728, from the 401 challenge), check it supports the JWT bearer grant (RFC 8414), and
 * present the platform JWT as the grant's assertion for the server's resource (RFC 8707).
 */
async function sep1933Token(mcpUrl: string, platformJwt: string): Promise<{ accessToken: string; resource: string }> {
  const challenge = await fetch(mcpUrl, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" }, body: "{}" });
  expect(challenge.status).toBe(401);
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get("WWW-Authenticate") ?? "")?.[1];
  const prm = (await (await fetch(metadataUrl!)).json()) as { resource: string; authorization_servers: string[] };
  const as = (await (await fetch(`${prm.authorization_servers[0]}/.well-known/oauth-authorization-server`)).json()) as { token_endpoint: string; grant_types_supported: string[] };
  expect(as.grant_types_supported).toContain(JWT_BEARER_GRANT);
  const res = await fetch(as.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: platformJwt, resource: prm.resource }),
  });
  const body = (await res.json()) as Record<string, any>;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { accessToken: body.access_token, resource: prm.resource };
}

test("a workload gets an MCP token with the JWT bearer grant; the MCP server exchanges it for an upstream token with openid-client", async () => {
  // Operator: trust the platform's issuer, and map its workload to a client that allows the grant.
  await adminCall("POST", "/admin/trusted-issuers", { issuer: WORKLOAD_ISSUER, discovery: true, shared: false, jti_policy: "single_use" });
  const agent = await adminCall("POST", "/admin/clients", {
    client_id: "orders-agent",
    scope: "mcp:tools orders:read",
    resources: [mcp.url],
    federated_credentials: [{ name: "agent", issuer: WORKLOAD_ISSUER, subject: SUB, grants: ["client_assertion", "jwt_bearer"] }],
  });
  const mcpClient = await adminCall("POST", "/admin/clients", {
    client_id: "orders-mcp",
    token_endpoint_auth_method: "client_secret_basic",
    scope: "orders:read",
    token_exchange: { subject_audiences: [mcp.url], resources: [UPSTREAM] },
  });
  const upstreamApi = await adminCall("POST", "/admin/clients", { client_id: "orders-api", token_endpoint_auth_method: "client_secret_basic", introspection_allowed: true });

  // The workload: no client_id, no secret, only its platform JWT.
  const { accessToken } = await sep1933Token(mcp.url, await workloadToken());
  expect(decodeJwt(accessToken)).toMatchObject({ sub: agent.client_id, client_id: agent.client_id, aud: mcp.url });
  const client = new Client({ name: "workload", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers: { Authorization: `Bearer ${accessToken}` } } }));
  const result = await client.callTool({ name: "whoami", arguments: {} });
  expect(result.content).toEqual([{ type: "text", text: "orders-agent" }]);
  await client.close();
  expect(toolCalls).toEqual(["orders-agent"]);

  // The MCP server: its caller's token is not passed upstream; it exchanges it (RFC 8693).
  const config = await oidc.discovery(new URL(worker.url), mcpClient.client_id, mcpClient.client_secret, oidc.ClientSecretBasic(mcpClient.client_secret), { algorithm: "oauth2", execute: [oidc.allowInsecureRequests] });
  const exchanged = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, { subject_token: accessToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM });
  expect(exchanged).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: "bearer", scope: "orders:read" });
  expect(decodeJwt(exchanged.access_token).exp).toBeLessThanOrEqual(decodeJwt(accessToken).exp!);

  // The upstream API: the token is for it, names who acts for whom, and is checked online.
  const revocation = { clientId: upstreamApi.client_id, clientSecret: upstreamApi.client_secret, onFailure: "closed" as const, cacheSeconds: 0 };
  const claims = await verifyAccessToken(exchanged.access_token, { issuer: worker.url, audience: UPSTREAM, scopes: ["orders:read"], revocation });
  expect(claims).toMatchObject({ sub: "orders-agent", client_id: "orders-mcp", act: { sub: "orders-mcp" } });

  // The workload's token is revoked (the workload authenticates with a fresh platform JWT): the exchanged one dies with it.
  const revoked = await fetch(`${worker.url}/oauth2/revoke`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: accessToken, client_id: "orders-agent", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await workloadToken() }),
  });
  expect(revoked.status, await revoked.clone().text()).toBe(200);
  await expect(verifyAccessToken(exchanged.access_token, { issuer: worker.url, audience: UPSTREAM, revocation })).rejects.toMatchObject({ status: 401, description: expect.stringMatching(/revoked/) });
  expect(worker.output()).toMatch(/"audit":"token_issued".*"client_id":"orders-mcp".*"subject_token_jti"/);
});
