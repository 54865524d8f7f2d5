/**
 * An MCP server on the MCP TypeScript SDK's server side (McpServer + StreamableHTTPServerTransport
 * on Express), protected by edge-token-service/resource: RFC 9728 metadata naming the issuer, and
 * every request's token verified before the SDK sees it. docs/resource-servers.md shows the same
 * program; keep the two in step.
 */
import type { Server } from "node:http";
import express from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { AccessTokenError, protectedResourceMetadata, protectedResourceMetadataUrl, verifyAccessToken } from "edge-token-service/resource";

export interface McpServerOptions {
  port: number;
  /** The token service's issuer identifier, e.g. `http://127.0.0.1:8787`. */
  issuer: string;
  /** Called by the tool handler, so a test can tell whether a request ever reached it. */
  onToolCall?: (clientId: string) => void;
}

export interface RunningMcpServer {
  /** The MCP endpoint, which is also the resource identifier tokens must be issued for. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMcpServer({ port, issuer, onToolCall }: McpServerOptions): Promise<RunningMcpServer> {
  const origin = `http://127.0.0.1:${port}`;
  const resource = `${origin}/mcp`;
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const verifyOptions = { issuer, audience: resource, scopes: ["mcp:tools"], resourceMetadataUrl: metadataUrl };

  const app = express();
  app.use(express.json());

  // RFC 9728: where an MCP client learns which authorization server to ask.
  app.get(new URL(metadataUrl).pathname, (_req, res) => {
    res.json(protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported: ["mcp:tools"] }));
  });

  // Every MCP request: the token checked by edge-token-service/resource, or the challenge sent back.
  const requireToken: express.RequestHandler = async (req, res, next) => {
    try {
      const claims = await verifyAccessToken({ method: req.method, url: `${origin}${req.originalUrl}`, headers: req.headers }, verifyOptions);
      // The SDK's transport reads `req.auth` and hands it to tool handlers as `extra.authInfo`.
      (req as typeof req & { auth?: AuthInfo }).auth = {
        token: req.headers.authorization!.replace(/^\S+ /, ""),
        clientId: claims.client_id,
        scopes: claims.scope?.split(" ") ?? [],
        expiresAt: claims.exp,
        resource: new URL(resource),
      };
      next();
    } catch (err) {
      if (!(err instanceof AccessTokenError)) return next(err);
      res.status(err.status).set(err.headers).json(err.code === null ? {} : { error: err.code, error_description: err.description });
    }
  };

  // Stateless Streamable HTTP: one McpServer and transport per request.
  app.post("/mcp", requireToken, async (req, res) => {
    const server = new McpServer({ name: "orders", version: "1.0.0" });
    server.registerTool("whoami", { description: "The client this request's access token was issued to" }, async (extra) => {
      const clientId = extra.authInfo?.clientId ?? "";
      onToolCall?.(clientId);
      return { content: [{ type: "text", text: clientId }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // No server-initiated stream and no sessions in stateless mode.
  app.all("/mcp", requireToken, (_req, res) => {
    res.status(405).set("Allow", "POST").end();
  });

  const listener: Server = await new Promise((resolve) => {
    const server = app.listen(port, "127.0.0.1", () => resolve(server));
  });
  return {
    url: resource,
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
}
