/**
 * GET /admin/keys and POST /admin/keys/rotate (SPEC §12) through the Worker with the real
 * SigningKeyRing: the listing and its states, the emergency rotation (the new key signs after the
 * ring's cache time, in every isolate at once; the previous key stays published for the retain
 * time, or is removed with remove_previous so its tokens stop verifying), the refusals, and the
 * audit lines. The publish-ahead time is 2 s here, so the ring's cache time, and the switch, is 1 s.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import { captureWorkerLogs } from "../support/faults.js";
import { ADMIN_TOKEN, callWorker, expectOAuthError, ISSUER, JWT_BEARER, keyAssertion, postForm, registerKeyClient, TOKEN_URL, type EnvOverrides, type KeyClient } from "../support/helpers.js";
import { authenticatedForm, INTROSPECT_URL } from "../support/lifecycle.js";

const logs = captureWorkerLogs();
const AUTO: EnvOverrides = { SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined, SIGNING_KEY_PUBLISH_AHEAD: "2" };
const operatorKid = (JSON.parse(testSecrets.SIGNING_KEYS) as { keys: Array<{ kid: string }> }).keys[0]!.kid;

interface Listing {
  rotation: "auto" | "manual";
  schedule: { lifetime: number; publish_ahead: number; retain: number } | null;
  jwks_max_age: number;
  keys: Array<{ kid: string; alg: string; state: string; source: string; published_at: number | null; signs_from: number | null; signs_until: number | null; unpublished_at: number | null }>;
}

function adminCall(method: string, path: string, overrides?: EnvOverrides, init: RequestInit = {}): Promise<Response> {
  return callWorker(path, { method, ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers as Record<string, string> | undefined) } }, overrides);
}

async function listing(overrides?: EnvOverrides): Promise<Listing> {
  const res = await adminCall("GET", "/admin/keys", overrides);
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return res.json();
}

async function rotate(body: unknown, overrides: EnvOverrides = AUTO): Promise<Listing & { kid: string; signs_from: number; remove_previous: boolean; previous: string[] }> {
  const init = body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const res = await adminCall("POST", "/admin/keys/rotate", overrides, init);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function token(client: KeyClient): Promise<string> {
  const res = await postForm({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) }, {}, TOKEN_URL, AUTO);
  expect(res.status).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

async function servedJwks(): Promise<JSONWebKeySet> {
  return (await callWorker("/.well-known/jwks.json", {}, AUTO)).json();
}

const verifies = (accessToken: string, set: JSONWebKeySet) =>
  jwtVerify(accessToken, createLocalJWKSet(set), { issuer: ISSUER }).then(
    () => true,
    () => false,
  );

const untilSecond = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, (at - Date.now() / 1000) * 1000 + 50)));
const auditLines = (event: string) => logs.lines().filter((line) => line.includes(`"audit":"${event}"`)).map((line) => JSON.parse(line));

describe("/admin/keys", () => {
  let client: KeyClient;
  beforeAll(async () => {
    client = await registerKeyClient("ES256");
  });

  it("needs the admin token", async () => {
    await expectOAuthError(await callWorker("/admin/keys", {}, AUTO), 401, "invalid_token");
    await expectOAuthError(await callWorker("/admin/keys/rotate", { method: "POST" }, AUTO), 401, "invalid_token");
  });

  it("with SIGNING_KEYS alone: lists them (manual) and refuses to rotate with 409, naming the way to rotate them", async () => {
    const manual = await listing();
    expect(manual).toMatchObject({ rotation: "manual", schedule: null, jwks_max_age: 300 });
    expect(manual.keys).toEqual([{ kid: operatorKid, alg: "ES256", state: "signing", source: "SIGNING_KEYS", published_at: null, signs_from: null, signs_until: null, unpublished_at: null }]);
    const refused = await expectOAuthError(await adminCall("POST", "/admin/keys/rotate"), 409, "conflict");
    expect(refused.error_description).toContain("SIGNING_KEY_ROTATION is not auto");
  });

  it("with auto: each key's kid, alg, state and its four instants; SIGNING_KEYS beside the ring listed as retired; audited", async () => {
    logs.clear();
    const now = Math.floor(Date.now() / 1000);
    const body = await listing({ ...AUTO, SIGNING_KEYS: testSecrets.SIGNING_KEYS });
    expect(body).toMatchObject({ rotation: "auto", schedule: { lifetime: 2_592_000, publish_ahead: 2, retain: 172_800 }, jwks_max_age: 1 });
    const [signing, next, operator] = body.keys;
    expect(signing).toMatchObject({ state: "signing", source: "ring", alg: "ES256" });
    expect(signing!.signs_from).toBeLessThanOrEqual(now + 1);
    expect(next).toMatchObject({ state: "next", source: "ring", signs_from: signing!.signs_until, published_at: signing!.signs_until! - 2 });
    expect(operator).toMatchObject({ kid: operatorKid, state: "retired", source: "SIGNING_KEYS", signs_until: null });
    expect(JSON.stringify(body)).not.toMatch(/"d"|sealed/);
    expect(auditLines("signing_keys_listed")).toEqual([expect.objectContaining({ rotation: "auto" })]);
  });

  it("POST /admin/keys/rotate: a new key signs one cache time later, everywhere; the previous key stays published, so its tokens still verify", async () => {
    const before = await token(client);
    const oldKid = decodeProtectedHeader(before).kid!;
    logs.clear();
    const rotation = await rotate(undefined);
    expect(rotation).toMatchObject({ remove_previous: false, rotation: "auto" });
    expect(rotation.kid).not.toBe(oldKid);
    const byKid = new Map(rotation.keys.map((k) => [k.kid, k]));
    expect(byKid.get(rotation.kid)).toMatchObject({ state: "next", signs_from: rotation.signs_from });
    expect(byKid.get(oldKid)).toMatchObject({ signs_until: rotation.signs_from, unpublished_at: rotation.signs_from + 172_800 });
    expect(auditLines("signing_keys_rotated")).toEqual([expect.objectContaining({ kid: rotation.kid, signs_from: rotation.signs_from, remove_previous: false, previous: [oldKid] })]);
    // Published at once, everywhere (another isolate too).
    expect((await servedJwks()).keys.map((k) => k.kid)).toContain(rotation.kid);

    await untilSecond(rotation.signs_from);
    const after = await token(client);
    expect(decodeProtectedHeader(after).kid).toBe(rotation.kid);
    const jwks = await servedJwks();
    expect(await verifies(before, jwks)).toBe(true);
    expect(await verifies(after, jwks)).toBe(true);
    const states = new Map((await listing(AUTO)).keys.map((k) => [k.kid, k.state]));
    expect([states.get(oldKid), states.get(rotation.kid)]).toEqual(["retired", "signing"]);
  });

  it('{"remove_previous": true}: after the switch the previous keys are gone from the JWKS; their tokens no longer verify or introspect active', async () => {
    const before = await token(client);
    const rotation = await rotate({ remove_previous: true });
    expect(rotation.remove_previous).toBe(true);
    expect(rotation.previous).toContain(decodeProtectedHeader(before).kid);
    // Until the switch the previous key still signs and is published (isolates may still use it).
    expect(await verifies(before, await servedJwks())).toBe(true);
    await untilSecond(rotation.signs_from);
    const jwks = await servedJwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual([rotation.kid]);
    expect(await verifies(before, jwks)).toBe(false);
    const introspected = await postForm(await authenticatedForm(client, INTROSPECT_URL, { token: before }), {}, INTROSPECT_URL, AUTO);
    expect(await introspected.json()).toEqual({ active: false });
    expect(await verifies(await token(client), jwks)).toBe(true);
  });

  it("refuses a body that is not empty or {remove_previous: boolean}: 400 invalid_request naming the rule", async () => {
    const bad: Array<[string, string, RegExp]> = [
      ['{"remove_previous": "yes"}', "application/json", /remove_previous/],
      ['{"remove_previous": true, "now": 1}', "application/json", /remove_previous/],
      ["[true]", "application/json", /remove_previous/],
      ["{", "application/json", /not valid JSON/],
      ['{"remove_previous": true}', "text/plain", /Content-Type must be application\/json/],
    ];
    for (const [body, type, description] of bad) {
      const res = await adminCall("POST", "/admin/keys/rotate", AUTO, { body, headers: { "Content-Type": type } });
      const error = await expectOAuthError(res, 400, "invalid_request");
      expect(error.error_description).toMatch(description);
    }
  });
});
