/**
 * Which headers which responses carry: OAuth form endpoints answer with `no-store` and `nosniff`
 * only (RFC 6749 §5.1; the browser hardening set costs CPU on the hot path and protects nothing
 * in a JSON API response to a machine), every other route gets Hono's secureHeaders.
 */
import { describe, expect, it } from "vitest";
import { callWorker, keyAssertion, postForm, registerKeyClient, tokenWithAssertion } from "./support/helpers.js";

describe("response headers", () => {
  it("token responses, success and error, carry no-store and nosniff, not the browser hardening set", async () => {
    const client = await registerKeyClient();
    for (const res of [await tokenWithAssertion(await keyAssertion(client)), await postForm({ grant_type: "client_credentials" })]) {
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBeNull();
      expect(res.headers.get("Strict-Transport-Security")).toBeNull();
    }
  });

  it("introspection and revocation answers carry no-store and nosniff", async () => {
    for (const path of ["/oauth2/introspect", "/oauth2/revoke"]) {
      const res = await postForm({ token: "x" }, {}, `https://issuer.test${path}`);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    }
  });

  it("metadata and other routes get the secure headers", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/healthz", "/jwts"]) {
      const res = await callWorker(path);
      expect(res.headers.get("X-Frame-Options"), path).toBe("SAMEORIGIN");
      expect(res.headers.get("Strict-Transport-Security"), path).not.toBeNull();
    }
  });
});
