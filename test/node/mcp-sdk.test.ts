/**
 * The MCP TypeScript SDK as shipped, end to end against this service (issue 11): an MCP server on
 * the SDK's server side protected by edge-token-service/resource, and the SDK's machine-to-machine
 * clients — PrivateKeyJwtProvider (ES256, RS256) and ClientCredentialsProvider
 * (client_secret_basic) — discovering this service through the server's RFC 9728 metadata, asking
 * for a token for the server (RFC 8707 `resource` → `aud`), and calling a tool.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker, type LocalWorker } from "./support/local-worker.js";
import { startMcpServer, type RunningMcpServer } from "./support/mcp-server.js";
import { PORTS } from "./support/ports.js";

const ADMIN_TOKEN = "mcp-e2e-admin-token-0123456789abcdef";

let worker: LocalWorker;
let mcp: RunningMcpServer;
const toolCalls: string[] = [];

beforeAll(async () => {
  worker = await startLocalWorker({ port: PORTS.mcpWorker, vars: { ADMIN_TOKEN } });
  mcp = await startMcpServer({ port: PORTS.mcpServer, issuer: worker.url, onToolCall: (clientId) => toolCalls.push(clientId) });
});
afterAll(async () => {
  await mcp?.close();
  await worker?.stop();
});

/** Register a client through the admin API; returns the RFC 7591 client information response. */
async function register(metadata: Record<string, unknown>): Promise<Record<string, string>> {
  const res = await fetch(`${worker.url}/admin/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ scope: "mcp:tools", resources: [mcp.url], ...metadata }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, string>;
}

/** A private_key_jwt client with a fresh key pair; returns its id and the private JWK. */
async function keyClient(alg: "ES256" | "RS256"): Promise<{ clientId: string; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const info = await register({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg, use: "sig" }] } });
  return { clientId: info.client_id!, privateJwk: await exportJWK(privateKey) };
}

/** Connect an SDK client with `authProvider` and call the whoami tool. */
async function callWhoami(authProvider: ConstructorParameters<typeof StreamableHTTPClientTransport>[1] extends infer O ? O extends { authProvider?: infer P } ? P : never : never) {
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider }));
  try {
    return await client.callTool({ name: "whoami", arguments: {} });
  } finally {
    await client.close();
  }
}

describe("MCP TypeScript SDK 1.32.2 against edge-token-service", () => {
  it("the server answers 401 with an RFC 6750 challenge naming its RFC 9728 metadata, which names this service", async () => {
    const res = await fetch(mcp.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    const challenge = res.headers.get("WWW-Authenticate")!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    expect(metadataUrl).toBe(`http://127.0.0.1:${PORTS.mcpServer}/.well-known/oauth-protected-resource/mcp`);
    expect(await (await fetch(metadataUrl)).json()).toMatchObject({ resource: mcp.url, authorization_servers: [worker.url] });
  });

  for (const alg of ["ES256", "RS256"] as const) {
    it(`PrivateKeyJwtProvider (${alg}): discovery, a token for the MCP server, a tool call that reaches the tool`, async () => {
      const { clientId, privateJwk } = await keyClient(alg);
      const provider = new PrivateKeyJwtProvider({ clientId, privateKey: privateJwk, algorithm: alg, expectedIssuer: worker.url });
      const result = await callWhoami(provider);
      expect(result.content).toEqual([{ type: "text", text: clientId }]);
      expect(toolCalls).toContain(clientId);
      // resource → aud: the token was issued for this MCP server, by this service.
      const token = provider.tokens()!.access_token;
      expect(decodeJwt(token)).toMatchObject({ iss: worker.url, aud: mcp.url, client_id: clientId, scope: "mcp:tools" });
      expect(decodeProtectedHeader(token).typ).toBe("at+jwt");
    });
  }

  it("ClientCredentialsProvider (client_secret_basic): the same, with a client secret", async () => {
    const info = await register({ token_endpoint_auth_method: "client_secret_basic" });
    const provider = new ClientCredentialsProvider({ clientId: info.client_id!, clientSecret: info.client_secret!, expectedIssuer: worker.url });
    const result = await callWhoami(provider);
    expect(result.content).toEqual([{ type: "text", text: info.client_id }]);
    expect(decodeJwt(provider.tokens()!.access_token).aud).toBe(mcp.url);
  });

  it("a wrong private key fails at the token endpoint with invalid_client and never reaches the tool", async () => {
    const { clientId } = await keyClient("ES256");
    const { privateKey: wrongKey } = await generateKeyPair("ES256", { extractable: true });
    const provider = new PrivateKeyJwtProvider({ clientId, privateKey: await exportJWK(wrongKey), algorithm: "ES256", expectedIssuer: worker.url });
    const failure = await callWhoami(provider).then(
      () => undefined,
      (err: unknown) => err as { errorCode?: string; message?: string },
    );
    expect(failure?.errorCode).toBe("invalid_client");
    expect(failure?.message).toMatch(/signature verification failed/);
    expect(provider.tokens()).toBeUndefined();
    expect(toolCalls).not.toContain(clientId);
  });
});
