/** edge-token-service/resource: accessTokenAuth, the Hono middleware. */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { accessTokenAuth, protectedResourceMetadataUrl } from "../../src/resource/index.js";
import { mintToken, options, registerResourceClient, RESOURCE, resourceRequest } from "../support/resource.js";

describe("accessTokenAuth: Hono middleware", () => {
  const verifyOptions = options({ scopes: ["read"], resourceMetadataUrl: protectedResourceMetadataUrl(RESOURCE) });
  const api = new Hono();
  api.get("/orders", accessTokenAuth(verifyOptions), (c) => c.json({ client: c.var.accessToken.client_id }));

  it("passes the claims to the handler", async () => {
    const client = await registerResourceClient();
    const res = await api.fetch(resourceRequest(await mintToken(client, { scope: "read" })));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ client: client.clientId });
  });

  it("answers the challenge itself and never runs the handler: 401 without a token, 403 without the scope", async () => {
    const missing = await api.fetch(new Request(RESOURCE));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toContain(`resource_metadata="https://api.example/.well-known/oauth-protected-resource/orders"`);
    const narrow = await api.fetch(resourceRequest(await mintToken(await registerResourceClient(), { scope: "write" })));
    expect(narrow.status).toBe(403);
    expect(await narrow.json()).toEqual({ error: "insufficient_scope", error_description: "the access token lacks the scope read" });
  });
});
