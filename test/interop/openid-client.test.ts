/**
 * Interop: openid-client 6 (panva), the certified OpenID/OAuth client for JavaScript runtimes,
 * driving the service inside workerd: RFC 8414 discovery of https://issuer.test → the
 * client_credentials grant with each of the four client authentication methods → the access
 * token verified by a jose resource server through the published jwks_uri. docs/interop.md
 * records what was found.
 */
import * as client from "openid-client";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ISSUER,
  recordingFetch,
  registerInteropKeyClient,
  registerInteropSecretClient,
  seenRequests,
  verifyAsResourceServer,
  workerFetch,
  type InteropKeyClient,
} from "../support/interop.js";

const RESOURCE = "https://api.interop.test/";

/** RFC 8414 discovery (not OIDC) through the Worker. */
function discover(clientId: string, auth: client.ClientAuth, metadata: Partial<client.ClientMetadata> = {}) {
  return client.discovery(new URL(ISSUER), clientId, metadata, auth, { algorithm: "oauth2", [client.customFetch]: recordingFetch });
}

describe("openid-client 6: discovery → client_credentials → resource server", () => {
  let keyClient: InteropKeyClient;
  beforeAll(async () => {
    keyClient = await registerInteropKeyClient("ES256");
  });

  it("discovers the RFC 8414 metadata: issuer, token endpoint, jwks_uri, methods", async () => {
    const config = await discover(keyClient.clientId, client.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }));
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/oauth2/token`);
    expect(metadata.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["private_key_jwt", "client_secret_jwt", "client_secret_basic", "client_secret_post"]),
    );
    expect(seenRequests.some((r) => r.method === "GET" && r.path === "/.well-known/oauth-authorization-server")).toBe(true);
  });

  it("private_key_jwt (ES256): token, verified by the resource server", async () => {
    const config = await discover(keyClient.clientId, client.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }));
    const tokens = await client.clientCredentialsGrant(config, { scope: "read" });
    expect(tokens.token_type).toBe("bearer"); // oauth4webapi lower-cases it
    expect(tokens.scope).toBe("read");
    expect(tokens.expiresIn()).toBeGreaterThan(3500);
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: ISSUER, clientId: keyClient.clientId, scope: "read" });
  });

  it("private_key_jwt without kid (one registered key): the server picks the key by alg and kty", async () => {
    const config = await discover(keyClient.clientId, client.PrivateKeyJwt(keyClient.privateKey));
    const tokens = await client.clientCredentialsGrant(config);
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: ISSUER, clientId: keyClient.clientId });
  });

  it("private_key_jwt with an RFC 8707 resource: the token's aud is the resource", async () => {
    const config = await discover(keyClient.clientId, client.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }));
    const tokens = await client.clientCredentialsGrant(config, { resource: RESOURCE });
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: RESOURCE, clientId: keyClient.clientId, scope: "read write" });
  });

  it("client_secret_jwt (HS256): token, verified by the resource server", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_jwt");
    const config = await discover(clientId, client.ClientSecretJwt(secret));
    const tokens = await client.clientCredentialsGrant(config);
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: ISSUER, clientId, scope: "read write" });
  });

  it("client_secret_basic: token, verified by the resource server", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_basic");
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: "write" });
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: ISSUER, clientId, scope: "write" });
    // RFC 6749 §2.3.1: the library form-encodes id and secret before base64 ('-' → %2D, '_' → %5F).
    const sent = seenRequests.filter((r) => r.path === "/oauth2/token" && r.authorization?.startsWith("Basic ")).at(-1)!;
    expect(atob(sent.authorization!.slice(6))).toContain("%2D");
  });

  it("client_secret_post: token, verified by the resource server", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_post");
    const config = await discover(clientId, client.ClientSecretPost(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: "read write" });
    await verifyAsResourceServer(tokens.access_token, { jwksUri: config.serverMetadata().jwks_uri!, audience: ISSUER, clientId, scope: "read write" });
  });

  it("errors reach the caller as RFC 6749 errors: wrong secret (post) → invalid_client", async () => {
    const { clientId } = await registerInteropSecretClient("client_secret_post");
    const config = await discover(clientId, client.ClientSecretPost("not-the-secret"));
    const error = await client.clientCredentialsGrant(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect((error as client.ResponseBodyError).error).toBe("invalid_client");
    expect((error as client.ResponseBodyError).status).toBe(401);
  });

  it("wrong secret (basic) → the library reports the RFC 6749 §5.2 Basic challenge", async () => {
    const { clientId } = await registerInteropSecretClient("client_secret_basic");
    const config = await discover(clientId, client.ClientSecretBasic("not-the-secret"));
    const error = await client.clientCredentialsGrant(config).catch((e: unknown) => e);
    // With WWW-Authenticate on the 401 the library surfaces the challenge, not the body.
    expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = error as client.WWWAuthenticateChallengeError;
    expect(challenge.cause[0]!.scheme).toBe("basic");
    expect(challenge.status).toBe(401);
    expect((await challenge.response.json<Record<string, string>>()).error).toBe("invalid_client");
  });

  it("scope outside the registration → invalid_scope", async () => {
    const config = await discover(keyClient.clientId, client.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }));
    const error = await client.clientCredentialsGrant(config, { scope: "admin" }).catch((e: unknown) => e);
    expect((error as client.ResponseBodyError).error).toBe("invalid_scope");
  });

  describe("strict audience mode (RFC 7523bis / FAPI 2.0)", () => {
    it("the library's default assertion has no typ header, which strict mode refuses", async () => {
      const strict = await registerInteropKeyClient("ES256", { audience_mode: "strict" });
      const config = await discover(strict.clientId, client.PrivateKeyJwt({ key: strict.privateKey, kid: strict.kid }));
      const error = await client.clientCredentialsGrant(config).catch((e: unknown) => e);
      expect((error as client.ResponseBodyError).error).toBe("invalid_client");
      expect((error as client.ResponseBodyError).error_description).toMatch(/typ/);
    });

    it("with modifyAssertion setting typ client-authentication+jwt, strict mode accepts it (aud is already the issuer)", async () => {
      const strict = await registerInteropKeyClient("ES256", { audience_mode: "strict" });
      const auth = client.PrivateKeyJwt(
        { key: strict.privateKey, kid: strict.kid },
        { [client.modifyAssertion]: (header) => void (header.typ = "client-authentication+jwt") },
      );
      const tokens = await client.clientCredentialsGrant(await discover(strict.clientId, auth));
      await verifyAsResourceServer(tokens.access_token, { jwksUri: `${ISSUER}/.well-known/jwks.json`, audience: ISSUER, clientId: strict.clientId });
    });
  });

  it("runs in workerd on its own fetch too: customFetch was the only hook needed", async () => {
    // Same flow with the plain (non-recording) fetch hook, to show nothing depends on the recorder.
    const config = await client.discovery(new URL(ISSUER), keyClient.clientId, {}, client.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }), {
      algorithm: "oauth2",
      [client.customFetch]: workerFetch,
    });
    expect((await client.clientCredentialsGrant(config)).access_token).toMatch(/^ey/);
  });
});
