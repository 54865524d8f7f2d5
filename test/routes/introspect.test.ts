import { env } from "cloudflare:test";
import { decodeJwt, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLIENT_AUTH_JWT_TYP } from "../../src/client/assertion.js";
import {
  admin,
  callWorker,
  expectOAuthError,
  ISSUER,
  JWT_BEARER,
  keyAssertion,
  nowSeconds,
  OTK_TOKEN_URL,
  postForm,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
} from "../support/helpers.js";
import {
  authenticatedForm,
  bearerToken,
  forgeServerToken,
  INTROSPECT_URL,
  introspect,
  introspection,
  REVOKE_URL,
  unreachableNamespace,
} from "../support/lifecycle.js";

describe("POST /oauth2/introspect (RFC 7662)", () => {
  it("reports an active token of the caller with every field", async () => {
    const client = await registerKeyClient("ES256");
    const token = await bearerToken(client);
    const res = await introspect(client, token, { token_type_hint: "access_token" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = await res.json<any>();
    const claims = decodeJwt(token);
    expect(body).toEqual({
      active: true,
      client_id: client.clientId,
      scope: "read write",
      aud: ISSUER,
      iss: ISSUER,
      sub: client.clientId,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: "Bearer",
    });
  });

  it("ignores token_type_hint, even a wrong one", async () => {
    const client = await registerKeyClient("ES256");
    const token = await bearerToken(client);
    expect((await introspection(client, token)).active).toBe(true);
    const res = await introspect(client, token, { token_type_hint: "refresh_token" });
    expect((await res.json<any>()).active).toBe(true);
  });

  it("answers only {active: false} for another client's token", async () => {
    const owner = await registerKeyClient("ES256");
    const other = await registerKeyClient("ES256");
    expect(await introspection(other, await bearerToken(owner))).toEqual({ active: false });
  });

  it("lets an introspection_allowed client (a resource server) introspect any token", async () => {
    const owner = await registerKeyClient("ES256");
    const resourceServer = await registerKeyClient("ES256", { introspection_allowed: true, scope: "" });
    const body = await introspection(resourceServer, await bearerToken(owner));
    expect(body).toMatchObject({ active: true, client_id: owner.clientId, sub: owner.clientId });
  });

  it("reports tokens of a disabled client inactive, even to an introspection_allowed client", async () => {
    const owner = await registerKeyClient("ES256");
    const resourceServer = await registerKeyClient("ES256", { introspection_allowed: true });
    const token = await bearerToken(owner);
    expect((await admin("PATCH", `/admin/clients/${owner.clientId}`, { disabled: true })).status).toBe(200);
    expect(await introspection(resourceServer, token)).toEqual({ active: false });
  });

  it("accepts introspection_allowed in the admin API and refuses a non-boolean", async () => {
    const client = await registerKeyClient("ES256", { introspection_allowed: true });
    expect((await (await admin("GET", `/admin/clients/${client.clientId}`)).json<any>()).introspection_allowed).toBe(true);
    const res = await admin("POST", "/admin/clients", { token_endpoint_auth_method: "client_secret_basic", introspection_allowed: "yes" });
    const body = await expectOAuthError(res, 400, "invalid_client_metadata");
    expect(body.error_description).toMatch(/^introspection_allowed/);
  });

  describe("inactive tokens get exactly {active: false}", () => {
    // Each forged token names the caller as its client, so only the one defect decides.
    const inactive: [string, (clientId: string) => Promise<string>][] = [
      ["an expired token", (id) => forgeServerToken({ client_id: id, sub: id, iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })],
      ["a token of another issuer (signed with our key)", (id) => forgeServerToken({ client_id: id, sub: id, iss: "https://other-issuer.test" })],
      ["a token with typ JWT instead of at+jwt", (id) => forgeServerToken({ client_id: id, sub: id }, { typ: "JWT" })],
      ["a token with an unknown kid", (id) => forgeServerToken({ client_id: id, sub: id }, { kid: "no-such-key" })],
      [
        "a token signed by another key under our kid",
        async (id) => {
          const { privateKey } = await generateKeyPair("ES256");
          const now = nowSeconds();
          return new SignJWT({ iss: ISSUER, sub: id, client_id: id, aud: ISSUER, iat: now, exp: now + 600, jti: crypto.randomUUID() })
            .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "test-signing-1" })
            .sign(privateKey);
        },
      ],
      ["a token missing its jti", (id) => forgeServerToken({ client_id: id, sub: id, jti: undefined })],
      ["garbage", async () => "this-is-not-a-token"],
      ["a JWE-shaped value", async () => "a.b.c.d.e"],
    ];
    for (const [name, makeToken] of inactive) {
      it(name, async () => {
        const caller = await registerKeyClient("ES256");
        expect(await introspection(caller, await makeToken(caller.clientId))).toEqual({ active: false });
      });
    }

    it("while a forged token that is valid in every respect is active (the forger holds our key)", async () => {
      const caller = await registerKeyClient("ES256");
      const body = await introspection(caller, await forgeServerToken({ client_id: caller.clientId, sub: caller.clientId }));
      expect(body.active).toBe(true);
    });
  });

  describe("client authentication", () => {
    it("without any client authentication is invalid_client (401, SPEC §2)", async () => {
      const client = await registerKeyClient("ES256");
      const res = await postForm({ token: await bearerToken(client) }, {}, INTROSPECT_URL);
      await expectOAuthError(res, 401, "invalid_client");
    });

    it("with a bad assertion is invalid_client (401)", async () => {
      const client = await registerKeyClient("ES256");
      const form = await authenticatedForm(client, "https://elsewhere.test", { token: await bearerToken(client) });
      await expectOAuthError(await postForm(form, {}, INTROSPECT_URL), 401, "invalid_client");
    });

    it("with a wrong Basic secret is invalid_client with WWW-Authenticate", async () => {
      const { clientId } = await registerSecretClient("client_secret_basic");
      const res = await postForm({ token: "x" }, { Authorization: `Basic ${btoa(`${clientId}:wrong`)}` }, INTROSPECT_URL);
      await expectOAuthError(res, 401, "invalid_client");
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic/);
    });

    it("works with client_secret_basic", async () => {
      const { clientId, secret } = await registerSecretClient("client_secret_basic", { introspection_allowed: true });
      const owner = await registerKeyClient("ES256");
      const res = await postForm({ token: await bearerToken(owner) }, { Authorization: `Basic ${btoa(`${clientId}:${secret}`)}` }, INTROSPECT_URL);
      expect((await res.json<any>()).active).toBe(true);
    });

    it("consumes the assertion: the same assertion twice is invalid_client", async () => {
      const client = await registerKeyClient("ES256");
      const form = await authenticatedForm(client, INTROSPECT_URL, { token: await bearerToken(client) });
      expect((await postForm(form, {}, INTROSPECT_URL)).status).toBe(200);
      const body = await expectOAuthError(await postForm(form, {}, INTROSPECT_URL), 401, "invalid_client");
      expect(body.error_description).toMatch(/already been used/);
    });

    it("missing token is invalid_request, and the assertion stays unused", async () => {
      const client = await registerKeyClient("ES256");
      const form = await authenticatedForm(client, INTROSPECT_URL);
      const body = await expectOAuthError(await postForm(form, {}, INTROSPECT_URL), 400, "invalid_request");
      expect(body.error_description).toMatch(/token parameter is required/);
      expect((await postForm({ ...form, token: "x" }, {}, INTROSPECT_URL)).status).toBe(200);
    });

    it("compat mode accepts aud = issuer, introspection URL or token endpoint URL, nothing else", async () => {
      const client = await registerKeyClient("ES256");
      const token = await bearerToken(client);
      for (const aud of [ISSUER, INTROSPECT_URL, TOKEN_URL]) {
        const res = await postForm(await authenticatedForm(client, aud, { token }), {}, INTROSPECT_URL);
        expect(res.status, aud).toBe(200);
      }
      for (const aud of [REVOKE_URL, OTK_TOKEN_URL, `${INTROSPECT_URL}/`]) {
        const res = await postForm(await authenticatedForm(client, aud, { token }), {}, INTROSPECT_URL);
        await expectOAuthError(res, 401, "invalid_client");
      }
    });

    it("strict mode accepts only the issuer as aud", async () => {
      const client = await registerKeyClient("ES256", { audience_mode: "strict" });
      const assertion = (aud: string) => keyAssertion(client, { aud }, { typ: CLIENT_AUTH_JWT_TYP });
      const form = async (aud: string) => ({
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(aud),
        token: "x",
      });
      expect((await postForm(await form(ISSUER), {}, INTROSPECT_URL)).status).toBe(200);
      await expectOAuthError(await postForm(await form(INTROSPECT_URL), {}, INTROSPECT_URL), 401, "invalid_client");
    });
  });

  it("fails closed with 503 when the revocation list cannot be reached", async () => {
    const client = await registerKeyClient("ES256");
    const form = await authenticatedForm(client, INTROSPECT_URL, { token: await bearerToken(client) });
    const res = await postForm(form, {}, INTROSPECT_URL, { REVOCATION_LIST: unreachableNamespace(env.REVOCATION_LIST) });
    const body = await expectOAuthError(res, 503, "temporarily_unavailable");
    expect(body.error_description).toMatch(/revocation list/);
  });

  it("is listed in the metadata with its auth methods and algorithms", async () => {
    const meta = await (await callWorker("/.well-known/oauth-authorization-server")).json<any>();
    expect(meta.introspection_endpoint).toBe(INTROSPECT_URL);
    expect(meta.introspection_endpoint_auth_methods_supported).toEqual(meta.token_endpoint_auth_methods_supported);
    expect(meta.introspection_endpoint_auth_signing_alg_values_supported).toEqual(meta.token_endpoint_auth_signing_alg_values_supported);
  });
});
