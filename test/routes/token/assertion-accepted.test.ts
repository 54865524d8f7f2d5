/**
 * SPEC §3: the assertion variants a conforming client may send are all accepted, and the token
 * issued names the client. Each refusal in assertion-rules.test.ts has its accepted twin here.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  assertionClaims,
  ISSUER,
  keyAssertion,
  OTK_TOKEN_URL,
  registerKeyClient,
  registerSecretClient,
  signAssertion,
  TOKEN_URL,
  tokenWithAssertion,
} from "../../support/helpers.js";

async function expectToken(res: Response, clientId: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(decodeJwt(JSON.parse(text).access_token)).toMatchObject({ sub: clientId, client_id: clientId });
}

describe("accepted aud forms", () => {
  it("aud as the token endpoint URL string", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, { aud: TOKEN_URL })), client.clientId);
  });

  it("aud as the issuer (compat mode accepts it too)", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, { aud: ISSUER })), client.clientId);
  });

  it("aud as a one-element array", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, { aud: [TOKEN_URL] })), client.clientId);
  });

  it("the OTK path's URL as aud on the OTK path", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, { aud: OTK_TOKEN_URL }), {}, OTK_TOKEN_URL), client.clientId);
  });
});

describe("accepted headers and parameters", () => {
  it("typ client-authentication+jwt in compat mode", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, {}, { typ: "client-authentication+jwt" })), client.clientId);
  });

  it("typ JWT and no typ in compat mode", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, {}, { typ: "JWT" })), client.clientId);
    await expectToken(await tokenWithAssertion(await keyAssertion(client)), client.clientId);
  });

  it("a matching client_id parameter beside the assertion", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client), { client_id: client.clientId }), client.clientId);
  });

  it("no kid when the client has a single matching key", async () => {
    const client = await registerKeyClient("ES256");
    await expectToken(await tokenWithAssertion(await keyAssertion(client, {}, { kid: undefined })), client.clientId);
  });

  it("an nbf and iat in the past", async () => {
    const client = await registerKeyClient("ES256");
    const now = Math.floor(Date.now() / 1000);
    await expectToken(await tokenWithAssertion(await keyAssertion(client, { iat: now - 30, nbf: now - 30, exp: now + 60 })), client.clientId);
  });
});

describe("accepted algorithms", () => {
  it("EdDSA and Ed25519 alg names with an Ed25519 key registered under either name", async () => {
    for (const registeredAs of ["EdDSA", "Ed25519"]) {
      const client = await registerKeyClient(registeredAs);
      for (const alg of ["EdDSA", "Ed25519"]) {
        await expectToken(await tokenWithAssertion(await keyAssertion(client, {}, { alg })), client.clientId);
      }
    }
  });

  for (const alg of ["RS256", "PS256", "ES384"]) {
    it(`${alg}${alg.startsWith("ES") ? "" : " with a 2048-bit key"}`, async () => {
      const client = await registerKeyClient(alg);
      await expectToken(await tokenWithAssertion(await keyAssertion(client)), client.clientId);
    });
  }

  for (const alg of ["HS256", "HS384", "HS512"]) {
    it(`${alg} for a client_secret_jwt client`, async () => {
      const { clientId, secret } = await registerSecretClient("client_secret_jwt", { token_endpoint_auth_signing_alg: alg });
      const assertion = await signAssertion(new TextEncoder().encode(secret), assertionClaims(clientId), { alg });
      await expectToken(await tokenWithAssertion(assertion), clientId);
    });
  }
});
