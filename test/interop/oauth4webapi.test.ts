/**
 * Interop: oauth4webapi 3 (panva), the low-level OAuth 2 client openid-client is built on, and
 * its RFC 9068 resource-server validation (validateJwtAccessToken). Inside workerd, all HTTP
 * through the Worker via `[customFetch]`: discovery → client_credentials with each client
 * authentication method and each asymmetric key type a client may use → the access token
 * validated both by oauth4webapi and by jose's createRemoteJWKSet.
 */
import * as oauth from "oauth4webapi";
import { decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { registerClient, uniqueId } from "../helpers.js";
import {
  ISSUER,
  registerInteropKeyClient,
  registerInteropSecretClient,
  verifyAsResourceServer,
  workerFetch,
} from "./interop-support.js";

const issuer = new URL(ISSUER);
const fetchOption = { [oauth.customFetch]: workerFetch };
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  const response = await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...fetchOption });
  as = await oauth.processDiscoveryResponse(issuer, response);
});

/** One client_credentials grant; returns the processed token response. */
async function grant(clientId: string, auth: oauth.ClientAuth, parameters: Record<string, string> = {}) {
  const client: oauth.Client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(parameters), fetchOption);
  return oauth.processClientCredentialsResponse(as, client, response);
}

/** The resource server side: oauth4webapi's RFC 9068 validation of a Bearer request. */
async function validateAtResourceServer(accessToken: string, audience = ISSUER) {
  const request = new Request("https://api.interop.test/orders", { headers: { Authorization: `Bearer ${accessToken}` } });
  return oauth.validateJwtAccessToken(as, request, audience, fetchOption);
}

describe("oauth4webapi 3: discovery", () => {
  it("processes the RFC 8414 metadata (issuer must match exactly)", () => {
    expect(as.issuer).toBe(ISSUER);
    expect(as.token_endpoint).toBe(`${ISSUER}/oauth2/token`);
    expect(as.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    expect(as.grant_types_supported).toEqual(["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange"]);
  });
});

describe("oauth4webapi 3: private_key_jwt with every key type", () => {
  // [signing alg of the key, alg written in the registered JWK]
  const cases: [string, string][] = [
    ["ES256", "ES256"],
    ["ES384", "ES384"],
    ["ES512", "ES512"],
    ["RS256", "RS256"],
    ["PS256", "PS256"],
    ["PS512", "PS512"],
    // The library signs Ed25519 keys with the fully-specified alg "Ed25519" (RFC 9864); a client
    // registered with the older "EdDSA" name must still work (SPEC §3 rule 3).
    ["Ed25519", "EdDSA"],
    ["Ed25519", "Ed25519"],
  ];
  for (const [alg, registeredAlg] of cases) {
    it(`${alg} (registered as ${registeredAlg}): token, validated by oauth4webapi and jose as a resource server`, async () => {
      const keyClient = await registerInteropKeyClient(alg, {}, registeredAlg);
      const tokens = await grant(keyClient.clientId, oauth.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }), { scope: "read" });
      expect(tokens.token_type).toBe("bearer");
      expect(tokens.scope).toBe("read");
      const claims = await validateAtResourceServer(tokens.access_token);
      expect(claims.client_id).toBe(keyClient.clientId);
      await verifyAsResourceServer(tokens.access_token, { jwksUri: as.jwks_uri!, audience: ISSUER, clientId: keyClient.clientId, scope: "read" });
    });
  }
});

describe("oauth4webapi 3: registrations as operators write them", () => {
  it("a JWK registered without alg and use still verifies the library's assertion", async () => {
    // Only kty, n, e and kid, as many operators paste a public key.
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const clientId = uniqueId("interop-bare-jwk");
    await registerClient({ client_id: clientId, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: "bare" }] }, scope: "read" });
    const tokens = await grant(clientId, oauth.PrivateKeyJwt({ key: privateKey, kid: "bare" }));
    expect((await validateAtResourceServer(tokens.access_token)).client_id).toBe(clientId);
  });

  it("two resource parameters (RFC 8707 allows repeating it): refused, single-audience tokens only (docs/interop.md)", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_post", { resources: ["https://api.interop.test/", "https://other.interop.test/"] });
    const params = new URLSearchParams([["resource", "https://api.interop.test/"], ["resource", "https://other.interop.test/"]]);
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(secret), params, fetchOption);
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    // SPEC §2: any repeated parameter is invalid_request (RFC 8707 §2 would also allow invalid_target).
    expect((error as oauth.ResponseBodyError).error).toBe("invalid_request");
    expect((error as oauth.ResponseBodyError).error_description).toMatch(/resource/);
  });
});

describe("oauth4webapi 3: secret methods", () => {
  it("client_secret_jwt (HS256)", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_jwt", { token_endpoint_auth_signing_alg: "HS256" });
    const tokens = await grant(clientId, oauth.ClientSecretJwt(secret));
    expect((await validateAtResourceServer(tokens.access_token)).client_id).toBe(clientId);
  });

  it("client_secret_jwt for a client registered for HS512: the library only signs HS256, which the server refuses by name", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_jwt", { token_endpoint_auth_signing_alg: "HS512" });
    const error = await grant(clientId, oauth.ClientSecretJwt(secret)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect((error as oauth.ResponseBodyError).error).toBe("invalid_client");
    expect((error as oauth.ResponseBodyError).error_description).toMatch(/token_endpoint_auth_signing_alg/);
  });

  it("client_secret_basic", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_basic");
    const tokens = await grant(clientId, oauth.ClientSecretBasic(secret), { scope: "write" });
    expect((await validateAtResourceServer(tokens.access_token)).scope).toBe("write");
  });

  it("client_secret_post, with an RFC 8707 resource as the audience", async () => {
    const { clientId, secret } = await registerInteropSecretClient("client_secret_post");
    const tokens = await grant(clientId, oauth.ClientSecretPost(secret), { resource: "https://api.interop.test/" });
    const claims = await validateAtResourceServer(tokens.access_token, "https://api.interop.test/");
    expect(claims.aud).toBe("https://api.interop.test/");
    // A resource server expecting another audience refuses the token.
    await expect(validateAtResourceServer(tokens.access_token, ISSUER)).rejects.toThrow(/aud/);
  });
});

describe("oauth4webapi 3: what the access token looks like to a strict RFC 9068 validator", () => {
  it("header typ at+jwt with kid, all required claims, string client_id/sub/jti", async () => {
    const keyClient = await registerInteropKeyClient("ES256");
    const tokens = await grant(keyClient.clientId, oauth.PrivateKeyJwt({ key: keyClient.privateKey, kid: keyClient.kid }));
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: "at+jwt", alg: "ES256", kid: "test-signing-1" });
    const claims = await validateAtResourceServer(tokens.access_token);
    expect(Object.keys(claims)).toEqual(expect.arrayContaining(["iss", "exp", "aud", "sub", "iat", "jti", "client_id", "scope"]));
  });
});
