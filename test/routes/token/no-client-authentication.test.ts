/**
 * SPEC §2, RFC 6749 §5.2: a request with no client authentication at all is `invalid_client`
 * (401), at the token, introspection and revocation endpoints alike; WWW-Authenticate: Basic only
 * where the client tried Basic.
 */
import { describe, expect, it } from "vitest";
import { expectOAuthError, postForm } from "../../support/helpers.js";

const ENDPOINTS: [string, Record<string, string>][] = [
  ["https://issuer.test/oauth2/token", { grant_type: "client_credentials" }],
  ["https://issuer.test/auth/oauth/v2/token", { grant_type: "client_credentials" }],
  ["https://issuer.test/oauth2/introspect", { token: "some.access.token" }],
  ["https://issuer.test/oauth2/revoke", { token: "some.access.token" }],
  ["https://issuer.test/auth/oauth/v2/token/revoke", { token: "some.access.token" }],
];

describe("no client authentication at all", () => {
  for (const [url, params] of ENDPOINTS) {
    it(`${new URL(url).pathname}: 401 invalid_client, without and with a client_id`, async () => {
      for (const extra of [{}, { client_id: "someone" }] as Record<string, string>[]) {
        const res = await postForm({ ...params, ...extra }, {}, url);
        expect(res.headers.get("WWW-Authenticate")).toBeNull();
        const body = await expectOAuthError(res, 401, "invalid_client");
        expect(body.error_description).toMatch(/no client authentication/);
      }
    });
  }

  it("a client_secret without client_id does not identify a client: 401 invalid_client", async () => {
    const body = await expectOAuthError(await postForm({ grant_type: "client_credentials", client_secret: "s" }), 401, "invalid_client");
    expect(body.error_description).toMatch(/client_id/);
  });

  it("a Bearer header is not client authentication (401 invalid_client, no Basic challenge)", async () => {
    const res = await postForm({ grant_type: "client_credentials" }, { Authorization: "Bearer abc" });
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
    await expectOAuthError(res, 401, "invalid_client");
  });
});
