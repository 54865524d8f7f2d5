/**
 * Faults: the client's counter (SPEC §11) cannot be reached. A quota'd client's token request fails
 * closed — 503 `temporarily_unavailable`, no token; a client without a quota is not affected (its
 * counter is only written after the response, for tokens without a jti); the usage read is a 503.
 */
import { describe, expect, it } from "vitest";
import { admin, ADMIN_TOKEN, callWorker, JWT_BEARER, keyAssertion, postForm, registerKeyClient, registerSecretClient, TOKEN_URL } from "../helpers.js";
import { unreachableNamespace } from "../lifecycle-helpers.js";
import { env } from "cloudflare:test";
import { captureWorkerLogs, expectUnavailable } from "./fault-support.js";

const logs = captureWorkerLogs();
const down = { QUOTA_COUNTER: unreachableNamespace(env.QUOTA_COUNTER) };

describe("faults: the quota counter is unavailable", () => {
  it("a quota'd client gets 503 temporarily_unavailable and no token; the outage is logged", async () => {
    const client = await registerKeyClient("ES256", { token_quota: { limit: 100, window: 3600 } });
    logs.clear();
    const res = await postForm({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) }, {}, TOKEN_URL, down);
    const body = await expectUnavailable(res);
    expect(body.error_description).toMatch(/quota counter/);
    expect(logs.lines().some((line) => line.includes("quota_counter_unavailable"))).toBe(true);
  });

  it("a client without a quota still gets its token (the counter is not on its path)", async () => {
    const client = await registerKeyClient("ES256");
    const res = await postForm({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) }, {}, TOKEN_URL, down);
    expect(res.status).toBe(200);
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    expect((await postForm({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }, {}, TOKEN_URL, down)).status).toBe(200);
  });

  it("the usage read is 503 usage_unavailable, never a partial count", async () => {
    const client = await registerKeyClient("ES256");
    const res = await admin("GET", `/admin/clients/${client.clientId}/usage`);
    expect(res.status).toBe(200);
    const failing = await callWorker(`/admin/clients/${client.clientId}/usage`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, down);
    const body = await expectUnavailable(failing);
    expect(body.error_description).toMatch(/usage counts could not be read/);
  });
});
