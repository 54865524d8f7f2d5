import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  callWorker,
  expectOAuthError,
  ISSUER,
  keyAssertion,
  OTK_TOKEN_URL,
  postForm,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
} from "../support/helpers.js";
import {
  authenticatedForm,
  bearerToken,
  dpopKey,
  dpopProof,
  forgeServerToken,
  introspection,
  OTK_REVOKE_URL,
  REVOKE_URL,
  revoke,
  tokenWithDpop,
  unreachableNamespace,
} from "../support/lifecycle.js";

async function expectEmpty200(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(await res.text()).toBe("");
}

describe("POST /oauth2/revoke (RFC 7009)", () => {
  it("revokes the owner's token: 200 with an empty body, and introspection says inactive at once", async () => {
    const client = await registerKeyClient("ES256");
    const token = await bearerToken(client);
    expect((await introspection(client, token)).active).toBe(true);
    await expectEmpty200(await revoke(client, token, { token_type_hint: "access_token" }));
    expect(await introspection(client, token)).toEqual({ active: false });
    // Revoking again is harmless.
    await expectEmpty200(await revoke(client, token));
  });

  it("leaves the caller's other tokens alone", async () => {
    const client = await registerKeyClient("ES256");
    const [first, second] = [await bearerToken(client), await bearerToken(client)];
    await expectEmpty200(await revoke(client, first));
    expect((await introspection(client, second)).active).toBe(true);
  });

  it("answers 200 for another client's token and does NOT revoke it", async () => {
    const owner = await registerKeyClient("ES256");
    const intruder = await registerKeyClient("ES256", { introspection_allowed: true });
    const token = await bearerToken(owner);
    await expectEmpty200(await revoke(intruder, token));
    expect((await introspection(owner, token)).active).toBe(true);
  });

  it("answers 200 for unknown, garbage and expired tokens", async () => {
    const client = await registerKeyClient("ES256");
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      "garbage",
      await forgeServerToken({ client_id: client.clientId, sub: client.clientId, iss: "https://other-issuer.test" }),
      await forgeServerToken({ client_id: client.clientId, sub: client.clientId, iat: now - 7200, exp: now - 3600 }),
    ]) {
      await expectEmpty200(await revoke(client, token));
    }
  });

  it("accepts token_type_hint=refresh_token as just a hint", async () => {
    const client = await registerKeyClient("ES256");
    const token = await bearerToken(client);
    await expectEmpty200(await revoke(client, token, { token_type_hint: "refresh_token" }));
    expect((await introspection(client, token)).active).toBe(false);
  });

  it("revokes DPoP-bound tokens too", async () => {
    const client = await registerKeyClient("ES256");
    const res = await tokenWithDpop(await keyAssertion(client), await dpopProof(await dpopKey()));
    const token = (await res.json<any>()).access_token;
    await expectEmpty200(await revoke(client, token));
    expect((await introspection(client, token)).active).toBe(false);
  });

  it("works on the OAuth Toolkit alias, where compat aud may be the OTK token URL", async () => {
    const client = await registerKeyClient("ES256");
    const token = await bearerToken(client);
    const form = await authenticatedForm(client, OTK_TOKEN_URL, { token });
    await expectEmpty200(await postForm(form, {}, OTK_REVOKE_URL));
    expect((await introspection(client, token)).active).toBe(false);
  });

  it("compat mode accepts aud = issuer, revocation URL or token endpoint URL", async () => {
    const client = await registerKeyClient("ES256");
    for (const aud of [ISSUER, REVOKE_URL, TOKEN_URL]) {
      await expectEmpty200(await postForm(await authenticatedForm(client, aud, { token: "x" }), {}, REVOKE_URL));
    }
    await expectOAuthError(await postForm(await authenticatedForm(client, OTK_REVOKE_URL, { token: "x" }), {}, REVOKE_URL), 401, "invalid_client");
  });

  it("works with client_secret_post", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const res = await postForm({ client_id: clientId, client_secret: secret, token: "x" }, {}, REVOKE_URL);
    await expectEmpty200(res);
  });

  describe("refusals", () => {
    it("without client authentication: invalid_client (401, SPEC §2), and nothing is revoked", async () => {
      const client = await registerKeyClient("ES256");
      const token = await bearerToken(client);
      await expectOAuthError(await postForm({ token }, {}, REVOKE_URL), 401, "invalid_client");
      expect((await introspection(client, token)).active).toBe(true);
    });

    it("with a replayed assertion: invalid_client, and nothing is revoked", async () => {
      const client = await registerKeyClient("ES256");
      const [first, second] = [await bearerToken(client), await bearerToken(client)];
      const form = await authenticatedForm(client, REVOKE_URL, { token: first });
      await expectEmpty200(await postForm(form, {}, REVOKE_URL));
      const res = await postForm({ ...form, token: second }, {}, REVOKE_URL);
      await expectOAuthError(res, 401, "invalid_client");
      expect((await introspection(client, second)).active).toBe(true);
    });

    it("without token: invalid_request", async () => {
      const client = await registerKeyClient("ES256");
      const body = await expectOAuthError(await postForm(await authenticatedForm(client, REVOKE_URL), {}, REVOKE_URL), 400, "invalid_request");
      expect(body.error_description).toMatch(/token parameter is required/);
    });

    it("answers 503 temporarily_unavailable when the revocation list cannot be reached", async () => {
      const client = await registerKeyClient("ES256");
      const token = await bearerToken(client);
      const form = await authenticatedForm(client, REVOKE_URL, { token });
      const res = await postForm(form, {}, REVOKE_URL, { REVOCATION_LIST: unreachableNamespace(env.REVOCATION_LIST) });
      await expectOAuthError(res, 503, "temporarily_unavailable");
      expect(res.headers.get("Retry-After")).toBe("1");
    });
  });

  it("is listed in the metadata with its auth methods and algorithms", async () => {
    const meta = await (await callWorker("/.well-known/oauth-authorization-server")).json<any>();
    expect(meta.revocation_endpoint).toBe(REVOKE_URL);
    expect(meta.revocation_endpoint_auth_methods_supported).toEqual(meta.token_endpoint_auth_methods_supported);
    expect(meta.revocation_endpoint_auth_signing_alg_values_supported).toEqual(meta.token_endpoint_auth_signing_alg_values_supported);
  });
});
