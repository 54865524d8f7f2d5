/**
 * SPEC §11 quotas at the token endpoint, through the whole Worker with real Durable Objects:
 * exactness under real concurrency and across two shard layouts, the 429 and its headers, the
 * RateLimit headers, observe mode, that nothing but an issued token counts, and that a 429
 * consumes the assertion's jti.
 */
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "jose";
import { QUOTA_WINDOW_MAX_SECONDS, quotaWindow } from "../../../src/core/quota.js";
import { admin, expectOAuthError, keyAssertion, nowSeconds, registerKeyClient, registerSecretClient, tokenWithAssertion, postForm, type KeyClient } from "../../support/helpers.js";
import { dpopKey, dpopProof, tokenWithDpop } from "../../support/lifecycle.js";

/** The longest window: aligned to the epoch, so a test never straddles two windows in practice. */
const WINDOW = QUOTA_WINDOW_MAX_SECONDS;

async function quotaClient(limit: number, mode: "enforce" | "observe" = "enforce", extra: Record<string, unknown> = {}): Promise<KeyClient> {
  return registerKeyClient("ES256", { token_quota: { limit, window: WINDOW, mode }, resources: ["https://api.example"], ...extra });
}

async function usage(clientId: string): Promise<any> {
  const res = await admin("GET", `/admin/clients/${clientId}/usage`);
  expect(res.status).toBe(200);
  return res.json();
}

describe("token_quota at the token endpoint (SPEC §11)", () => {
  it("3 × limit concurrent requests with fresh assertions: exactly limit tokens, the rest 429", async () => {
    const limit = 10;
    const client = await quotaClient(limit);
    const assertions = await Promise.all(Array.from({ length: 3 * limit }, () => keyAssertion(client)));
    const responses = await Promise.all(assertions.map((a) => tokenWithAssertion(a)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(limit);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * limit);
    for (const res of responses.filter((r) => r.status === 429)) {
      const body = await expectOAuthError(res, 429, "too_many_requests");
      expect(body.error_description).toMatch(/token_quota is used up: 10 tokens per 2592000 s, resets at \d{4}-\d\d-\d\dT/);
      const retryAfter = Number(res.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW);
      expect(res.headers.get("RateLimit-Policy")).toBe(`"tokens";q=${limit};w=${WINDOW}`);
      expect(res.headers.get("RateLimit")).toBe(`"tokens";r=0;t=${retryAfter}`);
    }
    const report = await usage(client.clientId);
    expect(report.current_window).toMatchObject({ issued: limit, refused_quota: 2 * limit, over_limit: 0, remaining: 0 });
    expect(report.hours.reduce((sum: number, h: any) => sum + h.issued, 0)).toBe(limit);
  });

  it("stays exact across two shard layouts of the client (a topology change mid-window)", async () => {
    const limit = 8;
    const client = await quotaClient(limit, "enforce", { replay_guard_shards: 2 });
    for (let i = 0; i < 3; i++) expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    // New shard count and location: new replay-guard objects, the old ones still in force.
    const patched = await admin("PATCH", `/admin/clients/${client.clientId}`, { replay_guard_shards: 16, replay_guard_location: "weur" });
    expect((await patched.json<any>()).replay_guard_previous).toHaveLength(1);
    const assertions = await Promise.all(Array.from({ length: 3 * limit }, () => keyAssertion(client)));
    const statuses = (await Promise.all(assertions.map((a) => tokenWithAssertion(a)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(limit - 3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3 * limit - (limit - 3));
    expect((await usage(client.clientId)).current_window).toMatchObject({ issued: limit, remaining: 0 });
  });

  it("every token response of a quota'd client carries RateLimit-Policy and RateLimit; a client without a quota gets neither", async () => {
    const client = await quotaClient(5);
    const first = await tokenWithAssertion(await keyAssertion(client));
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    expect(first.headers.get("RateLimit-Policy")).toBe(`"tokens";q=5;w=${WINDOW}`);
    const reset = quotaWindow(WINDOW, nowSeconds()).end - nowSeconds();
    expect(first.headers.get("RateLimit")).toMatch(/^"tokens";r=4;t=\d+$/);
    expect(Math.abs(Number(/t=(\d+)/.exec(first.headers.get("RateLimit")!)![1]) - reset)).toBeLessThanOrEqual(2);
    expect((await tokenWithAssertion(await keyAssertion(client))).headers.get("RateLimit")).toMatch(/^"tokens";r=3;/);

    const plain = await registerKeyClient("ES256");
    const res = await tokenWithAssertion(await keyAssertion(plain));
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit-Policy")).toBeNull();
    expect(res.headers.get("RateLimit")).toBeNull();
  });

  it("observe mode never refuses: the excess is issued, counted and marked", async () => {
    const client = await quotaClient(2, "observe");
    const responses = await Promise.all(Array.from({ length: 5 }, async () => tokenWithAssertion(await keyAssertion(client))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.map((r) => r.headers.get("RateLimit")!.replace(/;t=\d+/, "")).sort()).toEqual(Array(5).fill('"tokens";r=0').fill('"tokens";r=1', 0, 1).sort());
    const report = await usage(client.clientId);
    expect(report.current_window).toMatchObject({ issued: 5, refused_quota: 0, over_limit: 3, remaining: 0 });
    expect(report.token_quota).toEqual({ limit: 2, window: WINDOW, mode: "observe" });
  });

  it("nothing but an issued token counts: a flood of refused requests naming the client leaves the whole quota", async () => {
    const limit = 3;
    const client = await quotaClient(limit, "enforce", { dpop_bound_access_tokens: false });
    const stranger = await generateKeyPair("ES256");
    const used = await keyAssertion(client);
    // One token, then its assertion replayed: the replays are refused and do not count.
    expect((await tokenWithAssertion(used)).status).toBe(200);
    const key = await dpopKey();
    const replayedProof = await dpopProof(key);
    expect((await tokenWithDpop(await keyAssertion(client), replayedProof)).status).toBe(200);
    const refused = await Promise.all([
      ...Array.from({ length: 3 }, () => tokenWithAssertion(used)), // replayed jti
      ...Array.from({ length: 3 }, async () => tokenWithAssertion(await keyAssertion({ ...client, privateKey: stranger.privateKey }))), // bad signature
      ...Array.from({ length: 3 }, async () => tokenWithAssertion(await keyAssertion(client), { scope: "admin" })), // invalid_scope
      ...Array.from({ length: 3 }, async () => tokenWithAssertion(await keyAssertion(client), { resource: "https://elsewhere.example" })), // invalid_target
      ...Array.from({ length: 3 }, async () => tokenWithAssertion(await keyAssertion(client, { exp: nowSeconds() - 60 }))), // expired
      ...Array.from({ length: 3 }, async () => tokenWithDpop(await keyAssertion(client), "not-a-proof")), // DPoP proof invalid
      ...Array.from({ length: 3 }, async () => tokenWithDpop(await keyAssertion(client), replayedProof)), // DPoP proof replayed (checked with the assertion's jti)
    ]);
    // Every one refused as the client's own fault (the statuses are listed when one is not).
    expect(await Promise.all(refused.filter((r) => r.status !== 400 && r.status !== 401).map(async (r) => `${r.status} ${await r.text()}`))).toEqual([]);
    expect((await usage(client.clientId)).current_window).toMatchObject({ issued: 2, refused_quota: 0, remaining: 1 });
    // The last token of the quota, then 429s, which do not count either.
    expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    for (let i = 0; i < 3; i++) await expectOAuthError(await tokenWithAssertion(await keyAssertion(client)), 429, "too_many_requests");
    expect((await usage(client.clientId)).current_window).toMatchObject({ issued: limit, refused_quota: 3, remaining: 0 });
  });

  it("a 429 consumes the assertion's jti: raising the limit later does not let it yield a token", async () => {
    const client = await quotaClient(1);
    expect((await tokenWithAssertion(await keyAssertion(client))).status).toBe(200);
    const refusedAssertion = await keyAssertion(client);
    await expectOAuthError(await tokenWithAssertion(refusedAssertion), 429, "too_many_requests");
    await admin("PATCH", `/admin/clients/${client.clientId}`, { token_quota: { limit: 5, window: WINDOW } });
    const again = await expectOAuthError(await tokenWithAssertion(refusedAssertion), 401, "invalid_client");
    expect(again.error_description).toMatch(/already been used/);
    // A fresh assertion gets a token under the raised limit, counted in the same window.
    const fresh = await tokenWithAssertion(await keyAssertion(client));
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("RateLimit")).toMatch(/^"tokens";r=3;/);
  });

  it("one assertion never yields two tokens: 8 concurrent copies give one token, the replays are not counted", async () => {
    const client = await quotaClient(5);
    const assertion = await keyAssertion(client);
    const statuses = (await Promise.all(Array.from({ length: 8 }, () => tokenWithAssertion(assertion)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    expect((await usage(client.clientId)).current_window).toMatchObject({ issued: 1, refused_quota: 0, remaining: 4 });
  });

  it("applies to clients that authenticate with a secret (no jti) as well", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post", { token_quota: { limit: 2, window: WINDOW } });
    const form = { grant_type: "client_credentials", client_id: clientId, client_secret: secret };
    const statuses = (await Promise.all(Array.from({ length: 6 }, () => postForm(form)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
  });
});

describe("token_quota in the management API", () => {
  it("is set at creation and with PATCH, and null removes it (then the endpoint sends no RateLimit headers)", async () => {
    const client = await quotaClient(100);
    const shown = await (await admin("GET", `/admin/clients/${client.clientId}`)).json<any>();
    expect(shown.token_quota).toEqual({ limit: 100, window: WINDOW, mode: "enforce" });
    const patched = await (await admin("PATCH", `/admin/clients/${client.clientId}`, { token_quota: { limit: 7, window: 60, mode: "observe" } })).json<any>();
    expect(patched.token_quota).toEqual({ limit: 7, window: 60, mode: "observe" });
    const removed = await (await admin("PATCH", `/admin/clients/${client.clientId}`, { token_quota: null })).json<any>();
    expect(removed.token_quota).toBeUndefined();
    const res = await tokenWithAssertion(await keyAssertion(client));
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit")).toBeNull();
  });

  const bad: [string, unknown][] = [
    ["limit below 1", { limit: 0, window: 60 }],
    ["limit above 1000000000", { limit: 1_000_000_001, window: 60 }],
    ["fractional limit", { limit: 1.5, window: 60 }],
    ["window below 60", { limit: 1, window: 59 }],
    ["window above 2592000", { limit: 1, window: 2_592_001 }],
    ["unknown mode", { limit: 1, window: 60, mode: "throttle" }],
    ["unknown field", { limit: 1, window: 60, burst: 2 }],
    ["missing window", { limit: 1 }],
    ["a string", "100/3600"],
  ];
  for (const [name, value] of bad) {
    it(`refuses ${name} with 400 naming token_quota`, async () => {
      const res = await admin("POST", "/admin/clients", { token_endpoint_auth_method: "client_secret_basic", token_quota: value });
      const body = await expectOAuthError(res, 400, "invalid_client_metadata");
      expect(body.error_description).toMatch(/^token_quota/);
    });
  }
});
