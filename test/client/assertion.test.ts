import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createClientAssertion, parsePrivateKeyText } from "../../src/client/assertion.js";
import { registerKeyClient, registerSecretClient, TOKEN_URL, tokenWithAssertion } from "../support/helpers.js";

describe("createClientAssertion", () => {
  it("builds iss = sub = clientId, aud, iat, exp = iat + lifetime, a random jti, and the JWK's kid and alg", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const key = { ...(await exportJWK(privateKey)), kid: "k1", alg: "ES256" };
    const one = await createClientAssertion({ clientId: "c1", key, audience: TOKEN_URL, now: 1_000, lifetimeSeconds: 90 });
    const two = await createClientAssertion({ clientId: "c1", key, audience: TOKEN_URL, now: 1_000, lifetimeSeconds: 90 });
    expect(decodeProtectedHeader(one)).toEqual({ alg: "ES256", typ: "client-authentication+jwt", kid: "k1" });
    expect(decodeJwt(one)).toEqual({ iss: "c1", sub: "c1", aud: TOKEN_URL, iat: 1_000, exp: 1_090, jti: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(decodeJwt(one).jti).not.toBe(decodeJwt(two).jti);
    await expect(jwtVerify(one, publicKey, { currentDate: new Date(1_000_000) })).resolves.toBeTruthy();
  });

  it("is accepted by the token endpoint for every key type the CLI creates", async () => {
    for (const alg of ["ES256", "PS256", "EdDSA"]) {
      const client = await registerKeyClient(alg);
      const key = { ...(await exportJWK(client.privateKey)), kid: client.kid, alg };
      const assertion = await createClientAssertion({ clientId: client.clientId, key, audience: TOKEN_URL });
      expect((await tokenWithAssertion(assertion)).status).toBe(200);
    }
  });

  it("signs client_secret_jwt assertions with the secret (HS256 by default)", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const assertion = await createClientAssertion({ clientId, key: secret, audience: TOKEN_URL });
    expect(decodeProtectedHeader(assertion).alg).toBe("HS256");
    expect((await tokenWithAssertion(assertion)).status).toBe(200);
  });

  it("takes a CryptoKey or a PKCS#8 PEM with an explicit alg", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const fromCryptoKey = await createClientAssertion({ clientId: "c", key: privateKey, alg: "ES256", kid: "x", audience: "https://a" });
    expect(decodeProtectedHeader(fromCryptoKey)).toMatchObject({ alg: "ES256", kid: "x" });
    const pem = await exportPKCS8(privateKey);
    expect(parsePrivateKeyText(pem)).toBe(pem.trim());
    expect(decodeProtectedHeader(await createClientAssertion({ clientId: "c", key: pem, alg: "ES256", audience: "https://a" })).alg).toBe("ES256");
  });

  it("refuses what cannot work, with a TypeError naming the problem", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), alg: "ES256" };
    const cases: Array<[Parameters<typeof createClientAssertion>[0], RegExp]> = [
      [{ clientId: "", key: priv, audience: "https://a" }, /clientId/],
      [{ clientId: "c", key: priv, audience: "" }, /audience/],
      [{ clientId: "c", key: await exportJWK(publicKey), audience: "https://a" }, /public key/],
      [{ clientId: "c", key: priv, alg: "PS256", audience: "https://a" }, /for ES256, not PS256/],
      [{ clientId: "c", key: priv, audience: "https://a", lifetimeSeconds: 0.5 }, /lifetimeSeconds/],
      [{ clientId: "c", key: "secret", alg: "ES256", audience: "https://a" }, /HS256, HS384 or HS512/],
      [{ clientId: "c", key: privateKey, audience: "https://a" }, /alg is required/],
      [{ clientId: "c", key: { kty: "oct", k: "c2VjcmV0" }, audience: "https://a" }, /symmetric/],
    ];
    for (const [options, message] of cases) await expect(createClientAssertion(options)).rejects.toThrow(message);
    expect(() => parsePrivateKeyText("nope")).toThrow(TypeError);
    expect(() => parsePrivateKeyText("[1]")).toThrow(/no kty/);
  });
});
