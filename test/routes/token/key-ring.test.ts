/**
 * Tokens and the JWKS with SIGNING_KEY_ROTATION = "auto" (SPEC §12), end to end through the
 * Worker with the real SigningKeyRing object: tokens are signed by the ring's signing key and
 * verify against the JWKS; SIGNING_KEYS set beside it stays published (not signing), so a
 * deployment switches with no token that stops verifying; no token outlives RETAIN − CLOCK_SKEW;
 * the JWKS max-age is the derived one; missing or broken secrets fail closed naming them.
 */
import { createLocalJWKSet, decodeProtectedHeader, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import testSecrets from "../../fixtures/server-secrets.json" with { type: "json" };
import { captureWorkerLogs, expectUnavailable } from "../../support/faults.js";
import { callWorker, ISSUER, JWT_BEARER, keyAssertion, postForm, registerKeyClient, TOKEN_URL, type EnvOverrides, type KeyClient } from "../../support/helpers.js";
import { authenticatedForm, INTROSPECT_URL } from "../../support/lifecycle.js";

const logs = captureWorkerLogs();
const AUTO: EnvOverrides = { SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined };
const AUTO_BESIDE_SIGNING_KEYS: EnvOverrides = { SIGNING_KEY_ROTATION: "auto" };
const operatorKid = (JSON.parse(testSecrets.SIGNING_KEYS) as { keys: Array<{ kid: string }> }).keys[0]!.kid;

async function token(client: KeyClient, overrides?: EnvOverrides): Promise<{ access_token: string; expires_in: number }> {
  const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
  const res = await postForm(form, {}, TOKEN_URL, overrides);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function jwks(overrides?: EnvOverrides): Promise<{ set: JSONWebKeySet; cacheControl: string | null }> {
  const res = await callWorker("/.well-known/jwks.json", {}, overrides);
  expect(res.status).toBe(200);
  return { set: await res.json(), cacheControl: res.headers.get("Cache-Control") };
}

const verifies = (accessToken: string, set: JSONWebKeySet) =>
  jwtVerify(accessToken, createLocalJWKSet(set), { issuer: ISSUER, typ: "at+jwt" }).then(
    () => true,
    () => false,
  );

describe("automatic signing keys: tokens and the JWKS", () => {
  let client: KeyClient;
  beforeAll(async () => {
    client = await registerKeyClient("ES256");
  });

  it("tokens are signed by the ring's signing key and verify against the JWKS it serves (max-age 300 s by default)", async () => {
    const { access_token } = await token(client, AUTO);
    const { kid } = decodeProtectedHeader(access_token);
    const { set, cacheControl } = await jwks(AUTO);
    expect(set.keys.map((k) => k.kid)).toEqual([kid]);
    expect(kid).not.toBe(operatorKid);
    expect(set.keys[0]).not.toHaveProperty("d");
    expect(cacheControl).toBe("public, max-age=300");
    expect(await verifies(access_token, set)).toBe(true);
    // Another isolate (a fresh env) signs with the same key.
    expect(decodeProtectedHeader((await token(client, AUTO)).access_token).kid).toBe(kid);
  });

  it("switching from SIGNING_KEYS: its keys stay published, not signing; tokens signed before still verify and introspect active", async () => {
    const before = (await token(client)).access_token;
    expect(decodeProtectedHeader(before).kid).toBe(operatorKid);
    const after = (await token(client, AUTO_BESIDE_SIGNING_KEYS)).access_token;
    expect(decodeProtectedHeader(after).kid).not.toBe(operatorKid);
    const { set } = await jwks(AUTO_BESIDE_SIGNING_KEYS);
    expect(set.keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(after).kid, operatorKid]);
    expect(await verifies(before, set)).toBe(true);
    expect(await verifies(after, set)).toBe(true);
    const res = await postForm(await authenticatedForm(client, INTROSPECT_URL, { token: before }), {}, INTROSPECT_URL, AUTO_BESIDE_SIGNING_KEYS);
    expect(await res.json()).toMatchObject({ active: true, client_id: client.clientId });
  });

  it("no token outlives SIGNING_KEY_RETAIN − CLOCK_SKEW: a client's longer access_token_ttl is cut, and expires_in says so", async () => {
    const longLived = await registerKeyClient("ES256", { access_token_ttl: 86_400 });
    const retain = { ...AUTO, SIGNING_KEY_RETAIN: "3700" };
    logs.clear();
    const capped = await token(longLived, retain);
    expect(capped.expires_in).toBe(3700 - 15);
    const claims = decodeJwt(capped.access_token);
    expect(claims.exp! - claims.iat!).toBe(3685);
    // The audit line of the decision records the exp the token carries.
    const issued = logs.lines().filter((line) => line.includes('"audit":"token_issued"')).map((line) => JSON.parse(line));
    expect(issued).toEqual([expect.objectContaining({ token_jti: claims.jti, exp: claims.exp })]);
    // With SIGNING_KEYS alone the client's lifetime applies as before.
    expect((await token(longLived)).expires_in).toBe(86_400);
    // The default lifetime fits (RETAIN ≥ ACCESS_TOKEN_TTL + CLOCK_SKEW is a start check).
    expect((await token(client, retain)).expires_in).toBe(3600);
  });

  it("the JWKS max-age follows the publish-ahead time (half of it, at most 300 s)", async () => {
    const { cacheControl } = await jwks({ ...AUTO, SIGNING_KEY_PUBLISH_AHEAD: "20" });
    expect(cacheControl).toBe("public, max-age=10");
  });

  it("fails closed: SIGNING_KEYS set but unusable, or CLIENT_SECRET_KEY missing, is a 503 naming it; no token", async () => {
    const form = async () => ({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const broken = await expectUnavailable(await postForm(await form(), {}, TOKEN_URL, { ...AUTO, SIGNING_KEYS: '{"keys": [' }));
    expect(broken.error_description).toContain("SIGNING_KEYS");
    const noSealKey = await expectUnavailable(await postForm(await form(), {}, TOKEN_URL, { ...AUTO, CLIENT_SECRET_KEY: undefined }));
    expect(noSealKey.error_description).toContain("CLIENT_SECRET_KEY");
  });

  it("the ring's keys are sealed only under a CLIENT_SECRET_KEY of 32 random bytes: a short one is a 503 naming it, as for client secrets", async () => {
    const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
    const weak = await expectUnavailable(await postForm(form, {}, TOKEN_URL, { ...AUTO, CLIENT_SECRET_KEY: "too-short-key" }));
    expect(weak.error_description).toMatch(/CLIENT_SECRET_KEY must be 32 random bytes/);
  });

  it("a CLIENT_SECRET_KEY that cannot open the ring's signing key: 503 saying so and how to recover, no token; the admin listing still answers", async () => {
    const otherSecret = { ...AUTO, CLIENT_SECRET_KEY: "Zm9yLWEtcmluZy10ZXN0LW9ubHktMzItYnl0ZXMtbGc" };
    const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
    const body = await expectUnavailable(await postForm(form, {}, TOKEN_URL, otherSecret));
    expect(body.error_description).toMatch(/cannot be opened with the current CLIENT_SECRET_KEY.*POST \/admin\/keys\/rotate/);
    const res = await callWorker("/admin/keys", { headers: { Authorization: `Bearer ${testSecrets.ADMIN_TOKEN}` } }, otherSecret);
    expect(res.status).toBe(200);
  });
});
