/**
 * Faults: missing or broken secrets and settings (SPEC §5). Each is a 503
 * `temporarily_unavailable` whose error_description names the setting — on the token endpoint,
 * the RFC 8414 metadata and the JWKS for SIGNING_KEYS — never a 500, never a token, never key
 * material in the answer. A token request refused this way does not burn its assertion.
 */
import { exportJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import {
  ADMIN_TOKEN,
  callWorker,
  JWT_BEARER,
  keyAssertion,
  type KeyClient,
  postForm,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
} from "../helpers.js";
import { captureWorkerLogs, expectUnavailable } from "./fault-support.js";

const logs = captureWorkerLogs();

const goodSigningKey = (JSON.parse(testSecrets.SIGNING_KEYS) as { keys: Record<string, string>[] }).keys[0]!;
const { d: _d, ...goodPublicKey } = goodSigningKey;

async function rsa1024PrivateJwk(): Promise<Record<string, unknown>> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return { ...(await exportJWK(pair.privateKey)), kid: "rsa-1024", alg: "RS256" };
}

/** SIGNING_KEYS values an operator could get wrong, by name. `undefined` = the secret is not set. */
const brokenSigningKeys: Record<string, () => Promise<string | undefined>> = {
  missing: async () => undefined,
  empty: async () => "",
  "malformed JSON": async () => '{"keys": [',
  "JSON null": async () => "null",
  "an empty set": async () => JSON.stringify({ keys: [] }),
  "a bare JWK, not a set": async () => JSON.stringify(goodSigningKey),
  "a public key only": async () => JSON.stringify({ keys: [goodPublicKey] }),
  "an HMAC key": async () => JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", kid: "hmac", alg: "HS256" }] }),
  "an RSA-1024 key": async () => JSON.stringify({ keys: [await rsa1024PrivateJwk()] }),
  "a key without kid": async () => JSON.stringify({ keys: [{ ...goodSigningKey, kid: undefined }] }),
  "a key without alg": async () => JSON.stringify({ keys: [{ ...goodSigningKey, alg: undefined }] }),
  "a key whose alg does not fit it": async () => JSON.stringify({ keys: [{ ...goodSigningKey, alg: "RS256" }] }),
  "a key with a broken d": async () => JSON.stringify({ keys: [{ ...goodSigningKey, d: "AAAA" }] }),
  "a good key after a bad one": async () => JSON.stringify({ keys: [goodSigningKey, { ...goodPublicKey, kid: "second" }] }),
};

function tokenForm(assertion: string): Record<string, string> {
  return { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion };
}

describe("faults: SIGNING_KEYS", () => {
  let client: KeyClient;
  beforeAll(async () => {
    client = await registerKeyClient("ES256");
  });

  for (const [name, value] of Object.entries(brokenSigningKeys)) {
    it(`${name}: 503 naming SIGNING_KEYS on the token endpoint, the metadata and the JWKS`, async () => {
      const secret = await value();
      const overrides = { SIGNING_KEYS: secret };
      const assertion = await keyAssertion(client);
      logs.clear();
      for (const res of [
        await postForm(tokenForm(assertion), {}, TOKEN_URL, overrides),
        await callWorker("/.well-known/oauth-authorization-server", {}, overrides),
        await callWorker("/.well-known/jwks.json", {}, overrides),
      ]) {
        const body = await expectUnavailable(res);
        expect(body.error_description).toContain("SIGNING_KEYS");
        // No private key material in the answer or the logs.
        for (const text of [body.error_description, ...logs.lines()]) expect(text).not.toContain(goodSigningKey.d);
      }
      expect(logs.lines().some((line) => line.includes("config_error") && line.includes("SIGNING_KEYS"))).toBe(true);
      // The refused request did not consume the assertion's jti.
      expect((await postForm(tokenForm(assertion))).status).toBe(200);
    });
  }

  it("the liveness route does not depend on SIGNING_KEYS", async () => {
    expect((await callWorker("/healthz", {}, { SIGNING_KEYS: undefined })).status).toBe(200);
  });
});

describe("faults: CLIENT_SECRET_KEY", () => {
  const wrongLength = "c2hvcnQta2V5LTE2Ynl0ZQ"; // 16 bytes, base64url
  const brokenValues: Record<string, string | undefined> = { "16 bytes": wrongLength, "64 bytes": `${testSecrets.CLIENT_SECRET_KEY}${testSecrets.CLIENT_SECRET_KEY}`, "not base64": "!!! not a key !!!", missing: undefined };

  for (const [name, value] of Object.entries(brokenValues)) {
    it(`${name}: 503 naming CLIENT_SECRET_KEY for every secret method and for the admin API`, async () => {
      const overrides = { CLIENT_SECRET_KEY: value };
      const basic = await registerSecretClient("client_secret_basic");
      const post = await registerSecretClient("client_secret_post");
      const jwt = await registerSecretClient("client_secret_jwt");
      const responses = [
        await postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa(`${basic.clientId}:${basic.secret}`)}` }, TOKEN_URL, overrides),
        await postForm({ grant_type: "client_credentials", client_id: post.clientId, client_secret: post.secret }, {}, TOKEN_URL, overrides),
        await postForm(tokenForm("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), {}, TOKEN_URL, overrides),
        await postForm({ ...tokenForm(await hs256Assertion(jwt.clientId, jwt.secret)), client_id: jwt.clientId }, {}, TOKEN_URL, overrides),
        await callWorker("/admin/clients", { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ token_endpoint_auth_method: "client_secret_post" }) }, overrides),
        await callWorker(`/admin/clients/${post.clientId}/secret`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, overrides),
      ];
      const [basicRes, postRes, garbageRes, jwtRes, createRes, rotateRes] = responses;
      for (const res of [basicRes!, postRes!, jwtRes!, createRes!, rotateRes!]) {
        const body = await expectUnavailable(res);
        expect(body.error_description).toContain("CLIENT_SECRET_KEY");
      }
      // An assertion that names no registered client fails before any secret is needed.
      expect(garbageRes!.status).toBe(401);
      // The secret was not rotated.
      expect((await postForm({ grant_type: "client_credentials", client_id: post.clientId, client_secret: post.secret })).status).toBe(200);
    });
  }

  it("a CLIENT_SECRET_KEY of the right length but the wrong value: secrets cannot be opened → invalid_client, logged", async () => {
    const post = await registerSecretClient("client_secret_post");
    logs.clear();
    const res = await postForm({ grant_type: "client_credentials", client_id: post.clientId, client_secret: post.secret }, {}, TOKEN_URL, { CLIENT_SECRET_KEY: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expect(res.status).toBe(401);
    expect(logs.lines().some((line) => line.includes("client_secret_unreadable"))).toBe(true);
  });
});

describe("faults: other settings", () => {
  const broken: Record<string, Record<string, string | undefined>> = {
    ISSUER: { ISSUER: undefined },
    "ISSUER ": { ISSUER: "not a url" },
    "ISSUER  ": { ISSUER: "https://issuer.test/" },
    ACCESS_TOKEN_TTL: { ACCESS_TOKEN_TTL: "an hour" },
    CLOCK_SKEW: { CLOCK_SKEW: "-5" },
    AUDIENCE_MODE: { AUDIENCE_MODE: "lax" },
    ASSERTION_MAX_LIFETIME: { ASSERTION_MAX_LIFETIME: "1.5" },
    REPLAY_GUARD_TIMEOUT_MS: { REPLAY_GUARD_TIMEOUT_MS: "soon" },
    SAMPLE_JWT_ROUTE: { SAMPLE_JWT_ROUTE: "maybe" },
  };
  for (const [setting, overrides] of Object.entries(broken)) {
    it(`${setting.trim()} = ${JSON.stringify(Object.values(overrides)[0] ?? null)}: 503 naming it on every route but /healthz`, async () => {
      for (const res of [
        await postForm({ grant_type: "client_credentials", client_id: "x", client_secret: "y" }, {}, TOKEN_URL, overrides),
        await callWorker("/.well-known/oauth-authorization-server", {}, overrides),
        await callWorker("/.well-known/jwks.json", {}, overrides),
        await callWorker("/admin/clients", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, overrides),
      ]) {
        const body = await expectUnavailable(res);
        expect(body.error_description).toContain(setting.trim());
      }
      expect((await callWorker("/healthz", {}, overrides)).status).toBe(200);
    });
  }

  it("ADMIN_TOKEN missing: the admin API answers 503 naming it, not 401 and not 500", async () => {
    const body = await expectUnavailable(await callWorker("/admin/clients", { headers: { Authorization: "Bearer anything" } }, { ADMIN_TOKEN: undefined }));
    expect(body.error_description).toContain("ADMIN_TOKEN");
  });
});

async function hs256Assertion(clientId: string, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: "https://issuer.test", iat: now, exp: now + 60, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));
}
