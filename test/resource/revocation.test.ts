/**
 * edge-token-service/resource: the optional online revocation check through this service's
 * introspection endpoint (the resource server authenticates as a client), the Hono middleware, and
 * the RFC 9728 protected-resource-metadata helper.
 */
import { OAuthProtectedResourceMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { exportJWK } from "jose";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createClientAssertion } from "../../src/client/assertion.js";
import { accessTokenAuth, protectedResourceMetadata, protectedResourceMetadataUrl, verifyAccessToken } from "../../src/resource/index.js";
import type { RevocationOptions } from "../../src/resource/revocation.js";
import { ISSUER, registerKeyClient, registerSecretClient } from "../support/helpers.js";
import { INTROSPECT_URL, revoke } from "../support/lifecycle.js";
import { expectRejected, mintToken, options, registerResourceClient, RESOURCE, resourceRequest, workerFetch } from "../support/resource.js";

/** The resource server's own client at the issuer, allowed to introspect any token. */
async function resourceServerClient(): Promise<{ clientId: string; clientSecret: string }> {
  const { clientId, secret } = await registerSecretClient("client_secret_basic", { introspection_allowed: true, scope: "" });
  return { clientId, clientSecret: secret };
}

describe("verifyAccessToken with revocation: the issuer's introspection endpoint", () => {
  it("accepts an active token and refuses it once revoked (cacheSeconds 0: asked every time)", async () => {
    const owner = await registerResourceClient();
    const token = await mintToken(owner);
    const revocation: RevocationOptions = { ...(await resourceServerClient()), onFailure: "closed", cacheSeconds: 0 };
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    expect((await revoke(owner, token)).status).toBe(200);
    await expectRejected(verifyAccessToken(token, options({ revocation, fetch: fetchImpl })), 401, "invalid_token", /revoked or is no longer active/);
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(2);
    // Without the revocation option the token still passes every local check: that is what the option adds.
    await expect(verifyAccessToken(token, options())).resolves.toBeTruthy();
  });

  it("reuses an answer for cacheSeconds (a revoked token keeps working that long), one introspection call", async () => {
    const owner = await registerResourceClient();
    const token = await mintToken(owner);
    const revocation: RevocationOptions = { ...(await resourceServerClient()), onFailure: "closed", cacheSeconds: 30 };
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    await revoke(owner, token);
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(1);
  });

  it("unreachable introspection: onFailure closed → 503, open → the locally valid token passes", async () => {
    const token = await mintToken(await registerResourceClient());
    const rs = await resourceServerClient();
    const down = () => workerFetch((url) => (url.pathname === "/oauth2/introspect" ? new Response("down", { status: 503 }) : undefined));
    await expectRejected(verifyAccessToken(token, options({ revocation: { ...rs, onFailure: "closed" }, fetch: down() })), 503, "temporarily_unavailable", /introspection endpoint could not be fetched/);
    await expect(verifyAccessToken(token, options({ revocation: { ...rs, onFailure: "open" }, fetch: down() }))).resolves.toBeTruthy();
  });

  it("a resource server that may not introspect others' tokens sees them inactive: refused, fail safe", async () => {
    const token = await mintToken(await registerResourceClient());
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    await expectRejected(verifyAccessToken(token, options({ revocation: { clientId, clientSecret: secret, onFailure: "open" } })), 401, "invalid_token", /revoked/);
  });

  it("authenticates with a private_key_jwt assertion too (edge-token-service/client)", async () => {
    const rs = await registerKeyClient("ES256", { introspection_allowed: true });
    const key = { ...(await exportJWK(rs.privateKey)), kid: rs.kid, alg: rs.alg };
    const clientAssertion = () => createClientAssertion({ clientId: rs.clientId, key, audience: INTROSPECT_URL });
    const token = await mintToken(await registerResourceClient());
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation: { clientId: rs.clientId, clientAssertion, onFailure: "closed" }, fetch: fetchImpl }));
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(1);
  });

  it("the failure mode must be chosen explicitly, and exactly one credential given", async () => {
    const token = await mintToken(await registerResourceClient());
    const rs = await resourceServerClient();
    await expect(verifyAccessToken(token, options({ revocation: { ...rs } as unknown as RevocationOptions }))).rejects.toThrow(/onFailure must be/);
    await expect(verifyAccessToken(token, options({ revocation: { clientId: rs.clientId, onFailure: "closed" } }))).rejects.toThrow(/exactly one/);
  });
});

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

describe("protectedResourceMetadata (RFC 9728)", () => {
  it("names this service as the authorization server, in a document the MCP SDK accepts, at the §3.1 URL", () => {
    const document = protectedResourceMetadata({ resource: RESOURCE, authorizationServers: [ISSUER], scopesSupported: ["read"] });
    expect(document).toMatchObject({ resource: RESOURCE, authorization_servers: [ISSUER], scopes_supported: ["read"], bearer_methods_supported: ["header"] });
    expect(OAuthProtectedResourceMetadataSchema.safeParse(document).success).toBe(true);
    expect(protectedResourceMetadataUrl(RESOURCE)).toBe("https://api.example/.well-known/oauth-protected-resource/orders");
    expect(protectedResourceMetadataUrl("https://api.example/")).toBe("https://api.example/.well-known/oauth-protected-resource");
    expect(() => protectedResourceMetadata({ resource: "https://api.example/#x", authorizationServers: [ISSUER] })).toThrow(TypeError);
  });
});
