/** edge-token-service/resource: the RFC 9728 protected-resource-metadata helper. */
import { OAuthProtectedResourceMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { describe, expect, it } from "vitest";
import { protectedResourceMetadata, protectedResourceMetadataUrl } from "../../src/resource/index.js";
import { ISSUER } from "../support/helpers.js";
import { RESOURCE } from "../support/resource.js";

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
