import { decodeJwt, decodeProtectedHeader, createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { callWorker, expectOAuthError, ISSUER, keyAssertion, OTK_TOKEN_URL, registerKeyClient, tokenWithAssertion } from "../../support/helpers.js";

describe("client_credentials with private_key_jwt", () => {
  it("issues an RFC 9068 access token verifiable with the published JWKS", async () => {
    const client = await registerKeyClient("ES256");
    const res = await tokenWithAssertion(await keyAssertion(client));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await res.json<any>();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "read write" });
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ typ: "at+jwt", alg: "ES256", kid: "test-signing-1" });

    const jwks = await (await callWorker("/.well-known/jwks.json")).json<any>();
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: ISSUER, typ: "at+jwt" });
    expect(payload).toMatchObject({ sub: client.clientId, client_id: client.clientId, scope: "read write" });
    expect(typeof payload.jti).toBe("string");
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it("refuses the same assertion the second time with invalid_client", async () => {
    const client = await registerKeyClient("ES256");
    const assertion = await keyAssertion(client);
    expect((await tokenWithAssertion(assertion)).status).toBe(200);
    const body = await expectOAuthError(await tokenWithAssertion(assertion), 401, "invalid_client");
    expect(body.error_description).toMatch(/already been used/);
  });

  it("works the same on the OAuth Toolkit path", async () => {
    const client = await registerKeyClient("ES256");
    const res = await tokenWithAssertion(await keyAssertion(client, { aud: OTK_TOKEN_URL }), {}, OTK_TOKEN_URL);
    expect(res.status).toBe(200);
    expect(decodeJwt((await res.json<any>()).access_token).client_id).toBe(client.clientId);
  });
});
