/**
 * SPEC §3 rules 1-6 through the whole Worker: the status, the `error` code, and an
 * `error_description` that names the rule (distinct per rule, never the assertion). The edges of
 * rules 1 and 2 are pinned by unit tests (test/oauth/client-auth/presented.test.ts,
 * test/http/form.test.ts, test/oauth/client-auth/assertion/parse.test.ts); here one request per family
 * shows the rule is wired in. Rules 7-10 are in assertion-claim-rules.test.ts, accepted variants
 * in assertion-accepted.test.ts.
 */
import { base64url, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_CLIENT_AUTH_DESCRIPTIONS } from "../../../src/oauth/client-auth/failures.js";
import {
  assertionClaims,
  expectOAuthError,
  JWT_BEARER,
  keyAssertion,
  postForm,
  registerClient,
  registerKeyClient,
  registerSecretClient,
  signAssertion,
  tokenWithAssertion,
  uniqueId,
  type KeyClient,
} from "../../support/helpers.js";
import { putClientRecord, sealSecret, signRaw } from "../../support/raw.js";

const encoder = new TextEncoder();

/** The response is `status`/`error` with a description matching `rule`, and leaks no assertion. */
async function expectRule(res: Response, status: number, error: string, rule: RegExp, assertion?: string) {
  const body = await expectOAuthError(res, status, error);
  expect(body.error_description).toMatch(rule);
  if (assertion !== undefined) expect(body.error_description).not.toContain(assertion.split(".")[2] || assertion);
}

let pk: KeyClient;
let csjwt: { clientId: string; secret: string };

beforeAll(async () => {
  pk = await registerKeyClient("ES256");
  csjwt = await registerSecretClient("client_secret_jwt");
});

describe("fixtures", () => {
  it("a well-formed assertion of each fixture client gets a token (so each refusal below is the rule's)", async () => {
    expect((await tokenWithAssertion(await keyAssertion(pk))).status).toBe(200);
    const hs = await signAssertion(encoder.encode(csjwt.secret), assertionClaims(csjwt.clientId), { alg: "HS256" });
    expect((await tokenWithAssertion(hs)).status).toBe(200);
  });

  it("every client authentication error_description is distinct", () => {
    expect(ALL_CLIENT_AUTH_DESCRIPTIONS.length).toBeGreaterThan(30);
    expect(new Set(ALL_CLIENT_AUTH_DESCRIPTIONS).size).toBe(ALL_CLIENT_AUTH_DESCRIPTIONS.length);
  });
});

describe("rule 1: assertion type and parameters", () => {
  it("refuses a wrong client_assertion_type", async () => {
    const res = await tokenWithAssertion(await keyAssertion(pk), { client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" });
    await expectRule(res, 400, "invalid_request", /client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer/);
  });

  it("refuses two client_assertion parameters", async () => {
    const [a, b] = [await keyAssertion(pk), await keyAssertion(pk)];
    const body = `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${a}&client_assertion=${b}`;
    await expectRule(await postForm(body), 400, "invalid_request", /'client_assertion' appears more than once/);
  });

});

describe("rule 2: a compact JWS of at most 8 KiB", () => {
  it("refuses an assertion over 8 KiB, even when validly signed", async () => {
    const assertion = await keyAssertion(pk, { padding: "x".repeat(6500) });
    expect(assertion.length).toBeGreaterThan(8 * 1024);
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /larger than 8 KiB/, assertion);
  });

});

describe("rule 3: alg and header parameters", () => {
  it("refuses an HMAC alg from a private_key_jwt client (alg confusion with the public key as secret)", async () => {
    const confused = await signAssertion(encoder.encode(JSON.stringify(pk.publicJwk)), assertionClaims(pk.clientId), { alg: "HS256", kid: pk.kid });
    await expectRule(await tokenWithAssertion(confused), 401, "invalid_client", /alg is not allowed for the client's token_endpoint_auth_method/);
  });

  it("refuses an asymmetric alg from a client_secret_jwt client", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const assertion = await signAssertion(privateKey, assertionClaims(csjwt.clientId), { alg: "ES256" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /alg is not allowed for the client's token_endpoint_auth_method/);
  });

  it("refuses an alg other than the registered token_endpoint_auth_signing_alg, even with a matching key", async () => {
    const es256 = await generateKeyPair("ES256", { extractable: true });
    const es384 = await generateKeyPair("ES384", { extractable: true });
    const clientId = uniqueId("pinned");
    // Registration now refuses a key that cannot verify the registered alg (SPEC §6); a record from
    // before that rule is written straight into KV, and the token endpoint still holds the line.
    await putClientRecord({
      client_id: clientId,
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_signing_alg: "ES256",
      jwks: { keys: [{ ...(await exportJWK(es256.publicKey)), kid: "k256" }, { ...(await exportJWK(es384.publicKey)), kid: "k384" }] },
    });
    const ok = await signAssertion(es256.privateKey, assertionClaims(clientId), { alg: "ES256", kid: "k256" });
    expect((await tokenWithAssertion(ok)).status).toBe(200);
    const other = await signAssertion(es384.privateKey, assertionClaims(clientId), { alg: "ES384", kid: "k384" });
    await expectRule(await tokenWithAssertion(other), 401, "invalid_client", /alg differs from the client's token_endpoint_auth_signing_alg/);
  });

  it("refuses a crit header parameter it does not understand", async () => {
    const header = { alg: "ES256", kid: pk.kid, crit: ["urn:example:must-understand"], "urn:example:must-understand": true };
    const assertion = await signRaw(header, assertionClaims(pk.clientId), pk.privateKey);
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /crit header parameter/);
  });

  for (const parameter of ["jwk", "jku", "x5u"] as const) {
    it(`never uses a key offered in the ${parameter} header: a signature by that key fails`, async () => {
      const attacker = await generateKeyPair("ES256", { extractable: true });
      const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: pk.kid, alg: "ES256" };
      const offered = parameter === "jwk" ? attackerJwk : `https://attacker.example/${parameter}.json`;
      const assertion = await signAssertion(attacker.privateKey, assertionClaims(pk.clientId), { alg: "ES256", kid: pk.kid, [parameter]: offered });
      await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /signature verification failed/);
    });
  }
});

describe("rule 4: the key comes from the client's registration", () => {
  it("refuses a kid the client has not registered", async () => {
    const assertion = await keyAssertion(pk, {}, { kid: "not-registered" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /no registered key of the client matches/);
  });

  it("refuses an alg that none of the client's keys can verify", async () => {
    const { privateKey } = await generateKeyPair("ES384");
    const assertion = await signAssertion(privateKey, assertionClaims(pk.clientId), { alg: "ES384" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /no registered key of the client matches/);
  });

  it("refuses to guess between several matching keys when kid is absent", async () => {
    const [one, two] = [await generateKeyPair("ES256", { extractable: true }), await generateKeyPair("ES256", { extractable: true })];
    const clientId = uniqueId("two-keys");
    await registerClient({
      client_id: clientId,
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [await exportJWK(one.publicKey), await exportJWK(two.publicKey)] },
    });
    const assertion = await signAssertion(one.privateKey, assertionClaims(clientId), { alg: "ES256" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /several registered keys match/);
  });

  it("refuses an RSA key under 2048 bits found in the registry, even with a valid signature", async () => {
    const weak = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const clientId = uniqueId("weak-rsa");
    const jwk = (await crypto.subtle.exportKey("jwk", weak.publicKey)) as JsonWebKey;
    await putClientRecord({ client_id: clientId, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ kty: "RSA", n: jwk.n!, e: jwk.e!, kid: "weak" }] } });
    const assertion = await signRaw({ alg: "RS256", kid: "weak" }, assertionClaims(clientId), weak.privateKey);
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /RSA key is shorter than 2048 bits/);
  });

  it("refuses a client secret shorter than the HMAC output (HS512 needs 64 bytes)", async () => {
    const clientId = uniqueId("short-secret");
    const secret = "s".repeat(40); // long enough for HS256, too short for HS512
    await putClientRecord({ client_id: clientId, token_endpoint_auth_method: "client_secret_jwt", client_secret_sealed: await sealSecret(clientId, secret) });
    const hs256 = await signAssertion(encoder.encode(secret), assertionClaims(clientId), { alg: "HS256" });
    expect((await tokenWithAssertion(hs256)).status).toBe(200);
    const hs512 = await signAssertion(encoder.encode(secret), assertionClaims(clientId), { alg: "HS512" });
    await expectRule(await tokenWithAssertion(hs512), 401, "invalid_client", /client secret is shorter than the HMAC output/);
  });
});

describe("rule 5: the signature verifies before any claim is trusted", () => {
  it("refuses a signature that does not cover the payload sent", async () => {
    const [header, , signature] = (await keyAssertion(pk)).split(".");
    const swapped = `${header}.${base64url.encode(JSON.stringify(assertionClaims(pk.clientId, { scope: "admin" })))}.${signature}`;
    await expectRule(await tokenWithAssertion(swapped), 401, "invalid_client", /signature verification failed/, swapped);
  });

  it("refuses a payload that is not even base64url as not a compact JWS, also with client_id", async () => {
    const [header, , signature] = (await keyAssertion(pk)).split(".");
    const garbage = `${header}.***.${signature}`;
    await expectRule(await tokenWithAssertion(garbage, { client_id: pk.clientId }), 401, "invalid_client", /not a compact JWS/);
  });

  it("refuses a client_secret_jwt assertion signed with another secret", async () => {
    const assertion = await signAssertion(encoder.encode("w".repeat(64)), assertionClaims(csjwt.clientId), { alg: "HS256" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /signature verification failed/);
  });
});

describe("rule 6: iss = sub = client_id", () => {
  it("refuses iss other than the client_id", async () => {
    const assertion = await keyAssertion(pk, { iss: "someone-else" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /iss must equal the client_id/);
  });

  it("refuses sub other than the client_id", async () => {
    const assertion = await keyAssertion(pk, { sub: "someone-else" });
    await expectRule(await tokenWithAssertion(assertion, { client_id: pk.clientId }), 401, "invalid_client", /sub must equal the client_id/);
  });

  it("refuses a client_id parameter that differs from the assertion's iss/sub", async () => {
    const other = await registerKeyClient("ES256");
    for (const clientId of [other.clientId, "nobody-registered-this"]) {
      const res = await tokenWithAssertion(await keyAssertion(pk), { client_id: clientId });
      await expectRule(res, 401, "invalid_client", /client_id parameter differs from the client_assertion iss\/sub/);
    }
  });

  it("refuses an assertion without iss and sub even when client_id names the client", async () => {
    const assertion = await keyAssertion(pk, { iss: undefined, sub: undefined });
    await expectRule(await tokenWithAssertion(assertion, { client_id: pk.clientId }), 401, "invalid_client", /iss must equal the client_id/);
  });

  it("refuses an assertion that names no client", async () => {
    const assertion = await keyAssertion(pk, { iss: undefined, sub: undefined });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /does not identify the client/);
  });

  it("refuses an assertion naming an unregistered client", async () => {
    const assertion = await keyAssertion(pk, { iss: "ghost-client", sub: "ghost-client" });
    await expectRule(await tokenWithAssertion(assertion), 401, "invalid_client", /unknown or disabled client/);
  });
});
