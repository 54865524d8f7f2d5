/**
 * The metadata the MCP TypeScript SDK needs (README, "Choices"): an `authorization_endpoint` that
 * exists and refuses every request with a clear RFC 6749 error, and `response_types_supported`
 * that claims nothing.
 */
import { OAuthMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { describe, expect, it } from "vitest";
import { callWorker, expectOAuthError, ISSUER } from "../helpers.js";

const AUTHORIZE_URL = `${ISSUER}/oauth2/authorize`;

describe("authorization endpoint for clients that require one", () => {
  it("is published, with no response type claimed, and the MCP SDK's metadata schema accepts the document", async () => {
    const meta = await (await callWorker("/.well-known/oauth-authorization-server")).json<Record<string, unknown>>();
    expect(meta.authorization_endpoint).toBe(AUTHORIZE_URL);
    expect(meta.response_types_supported).toEqual([]);
    expect(meta.grant_types_supported).toEqual(["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange"]);
    const parsed = OAuthMetadataSchema.safeParse(meta);
    expect(parsed.success ? "accepted" : parsed.error.message).toBe("accepted");
  });

  it("answers unsupported_response_type, never a redirect, for GET and POST whatever the parameters", async () => {
    const requests: [string, RequestInit][] = [
      [`${AUTHORIZE_URL}?response_type=code&client_id=x&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`, {}],
      [AUTHORIZE_URL, {}],
      [AUTHORIZE_URL, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "response_type=token" }],
    ];
    for (const [url, init] of requests) {
      const res = await callWorker(url, { ...init, redirect: "manual" });
      expect(res.headers.get("Location")).toBeNull();
      const body = await expectOAuthError(res, 400, "unsupported_response_type");
      expect(body.error_description).toMatch(/client_credentials only/);
    }
  });
});
