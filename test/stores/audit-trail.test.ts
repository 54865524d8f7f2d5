/**
 * The audit trail (SPEC §11): one JSON line per decision of the token, introspection and
 * revocation endpoints, with the documented schema, never a credential; and one Analytics Engine
 * data point per decision when `USAGE` is bound.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { auditRecord } from "../../src/core/audit.js";
import { INTROSPECTION_PATH } from "../../src/routes/introspect.js";
import { REVOCATION_PATH } from "../../src/routes/revoke.js";
import {
  ADMIN_TOKEN,
  expectOAuthError,
  ISSUER,
  keyAssertion,
  postForm,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
  tokenWithAssertion,
} from "../support/helpers.js";
import { dpopKey, dpopProof, introspect, revoke, tokenWithDpop } from "../support/lifecycle.js";

/** The fields a line may carry (README "Audit trail"): nothing else, ever. */
const SCHEMA_FIELDS = new Set(["audit", "at", "status", "client_id", "grant_type", "auth_method", "reason", "token_jti", "exp", "scope", "aud", "quota", "issuer", "subject", "credential", "token_sub", "subject_token_jti", "active"]);

let logs: MockInstance[] = [];
beforeEach(() => {
  logs = [vi.spyOn(console, "log"), vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(console, "info")];
});
afterEach(() => {
  for (const log of logs) log.mockRestore();
});

/** Everything the Worker logged, as one text. */
const captured = () => logs.flatMap((log) => log.mock.calls.map((call) => call.map(String).join(" "))).join("\n");
/** The audit lines of the three endpoints. */
const auditLines = () =>
  logs[0]!.mock.calls
    .map((call) => String(call[0]))
    .filter((line) => /^\{"audit":"(token_issued|token_refused|introspected|revoked)"/.test(line))
    .map((line) => JSON.parse(line));

describe("the audit trail", () => {
  it("writes one line per decision with the documented schema, and never a credential the test sent or received", async () => {
    const credentials: string[] = [ADMIN_TOKEN];
    const keep = <T extends string>(value: T) => (credentials.push(value), value);

    const client = await registerKeyClient("ES256", { resources: ["https://api.example"] });
    const { clientId: secretId, secret } = await registerSecretClient("client_secret_basic");
    keep(secret);
    const quotaClient = await registerKeyClient("ES256", { token_quota: { limit: 1, window: 86_400 } });
    logs[0]!.mockClear();

    // 1. issued (assertion), 2. replayed, 3. invalid_scope, 4. unsupported grant, 5. no authentication.
    const assertion = keep(await keyAssertion(client));
    const issued = await tokenWithAssertion(assertion, { resource: "https://api.example", scope: "read" });
    const accessToken = keep((await issued.json<any>()).access_token);
    await expectOAuthError(await tokenWithAssertion(assertion), 401, "invalid_client");
    await expectOAuthError(await tokenWithAssertion(keep(await keyAssertion(client)), { scope: "admin" }), 400, "invalid_scope");
    await expectOAuthError(await postForm({ grant_type: "password", client_assertion: keep(await keyAssertion(client)) }), 400, "unsupported_grant_type");
    await expectOAuthError(await postForm({ grant_type: "client_credentials", client_id: client.clientId }), 401, "invalid_client");
    // 6. issued (Basic), 7. wrong secret.
    const basic = keep(btoa(`${secretId}:${secret}`));
    const basicRes = await postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${basic}` });
    keep((await basicRes.json<any>()).access_token);
    const wrong = keep(btoa(`${secretId}:${"x".repeat(64)}`));
    await expectOAuthError(await postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${wrong}` }), 401, "invalid_client");
    // 8. issued with a DPoP proof.
    const proof = keep(await dpopProof(await dpopKey()));
    keep((await (await tokenWithDpop(keep(await keyAssertion(client)), proof)).json<any>()).access_token);
    // 9. introspected, 10. revoked.
    expect((await introspect(client, accessToken)).status).toBe(200);
    expect((await revoke(client, accessToken)).status).toBe(200);
    // 11. issued within the quota, 12. refused by it, 13. refused before the counter.
    keep((await (await tokenWithAssertion(keep(await keyAssertion(quotaClient)))).json<any>()).access_token);
    await expectOAuthError(await tokenWithAssertion(keep(await keyAssertion(quotaClient))), 429, "too_many_requests");
    await expectOAuthError(await tokenWithAssertion(keep(await keyAssertion(quotaClient)), { scope: "admin" }), 400, "invalid_scope");

    const lines = auditLines();
    expect(lines.map((l) => [l.audit, l.status, l.reason])).toEqual([
      ["token_issued", 200, undefined],
      ["token_refused", 401, "assertion_replayed"],
      ["token_refused", 400, "scope_not_allowed"],
      ["token_refused", 400, "grant_type_unsupported"],
      ["token_refused", 401, "no_client_authentication"],
      ["token_issued", 200, undefined],
      ["token_refused", 401, "secret_mismatch"],
      ["token_issued", 200, undefined],
      ["introspected", 200, undefined],
      ["revoked", 200, undefined],
      ["token_issued", 200, undefined],
      ["token_refused", 429, "quota_exceeded"],
      ["token_refused", 400, "scope_not_allowed"],
    ]);
    for (const line of lines) {
      expect(Object.keys(line).filter((k) => !SCHEMA_FIELDS.has(k))).toEqual([]);
      expect(Number.isNaN(Date.parse(line.at))).toBe(false);
    }
    const [first, replayed, , unsupported, , viaBasic, wrongSecret, , introspected, revoked, within, over, beforeCounter] = lines;
    expect(first).toMatchObject({ client_id: client.clientId, grant_type: "client_credentials", auth_method: "private_key_jwt", scope: "read", aud: "https://api.example" });
    expect(first.token_jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.exp).toBeGreaterThan(Date.now() / 1000);
    expect(first.quota).toBeUndefined();
    expect(replayed).toMatchObject({ client_id: client.clientId, auth_method: "private_key_jwt" });
    expect(replayed.token_jti).toBeUndefined();
    expect(unsupported.grant_type).toBeUndefined();
    expect(viaBasic).toMatchObject({ client_id: secretId, auth_method: "client_secret_basic" });
    expect(wrongSecret).toMatchObject({ client_id: secretId, auth_method: "client_secret_basic" });
    expect(introspected).toMatchObject({ client_id: client.clientId, active: true });
    expect(revoked).toMatchObject({ client_id: client.clientId });
    expect([within.quota, over.quota, beforeCounter.quota]).toEqual(["within", "exceeded", "not_reached"]);

    const log = captured();
    for (const credential of credentials) {
      expect(log).not.toContain(credential);
      // Nor any part of a JWT (its signature, or its payload).
      for (const segment of credential.split(".").filter((s) => s.length > 20)) expect(log).not.toContain(segment);
    }
  });

  it("writes one Analytics Engine data point per decision when USAGE is bound", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const usage = { writeDataPoint: (point: AnalyticsEngineDataPoint) => void points.push(point) };
    const client = await registerKeyClient("ES256");
    expect((await postForm({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await keyAssertion(client) }, {}, TOKEN_URL, { USAGE: usage })).status).toBe(200);
    await postForm({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await keyAssertion(client), scope: "nope" }, {}, TOKEN_URL, { USAGE: usage });
    await postForm({ grant_type: "client_credentials" }, {}, TOKEN_URL, { USAGE: usage });
    expect(points).toEqual([
      { indexes: [client.clientId], blobs: ["token_issued", "client_credentials", ""], doubles: [1] },
      { indexes: [client.clientId], blobs: ["token_refused", "client_credentials", "scope_not_allowed"], doubles: [1] },
      { indexes: ["-"], blobs: ["token_refused", "client_credentials", "no_client_authentication"], doubles: [1] },
    ]);
  });

  it("an oversized body is a decision too: one 413 line at each endpoint, reason body_too_large", async () => {
    const big = { grant_type: "client_credentials", client_assertion: "x".repeat(20 * 1024) };
    const endpoints: Array<[string, string]> = [
      [TOKEN_URL, "token_refused"],
      [`${ISSUER}${INTROSPECTION_PATH}`, "introspected"],
      [`${ISSUER}${REVOCATION_PATH}`, "revoked"],
    ];
    for (const [url] of endpoints) await expectOAuthError(await postForm(big, {}, url), 413, "invalid_request");
    expect(auditLines().map((line) => [line.audit, line.status, line.reason])).toEqual(endpoints.map(([, audit]) => [audit, 413, "body_too_large"]));
  });

  it("a configuration error met while deciding is a decision too: one 503 line, reason config_error", async () => {
    const client = await registerKeyClient("ES256");
    logs[0]!.mockClear();
    const form = { grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await keyAssertion(client) };
    await expectOAuthError(await postForm(form, {}, TOKEN_URL, { SIGNING_KEYS: '{"keys": [' }), 503, "temporarily_unavailable");
    expect(auditLines().map((line) => [line.audit, line.status, line.reason, line.client_id])).toEqual([["token_refused", 503, "config_error", client.clientId]]);
  });

  it("a line never carries a long or made-up value a caller chose as its client_id beyond 256 characters", () => {
    const line = auditRecord({ endpoint: "token", client_id: "c".repeat(1000) }, { status: 401, reason: "unknown_or_disabled_client" }, 0);
    expect(line.client_id).toHaveLength(256);
    expect(line).toEqual({ audit: "token_refused", at: "1970-01-01T00:00:00.000Z", status: 401, client_id: "c".repeat(256), reason: "unknown_or_disabled_client" });
  });
});
