/**
 * Client secret rotation without downtime (docs/operating.md): after
 * `POST /admin/clients/:client_id/secret` the previous secret keeps authenticating, next to the new
 * one, for `previous_secret_valid_for` seconds (default a day; 0 ends it at once), with every secret
 * method. Only one previous secret is kept, an expired one never works, and neither is ever shown.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  assertionClaims,
  expectOAuthError,
  nowSeconds,
  postForm,
  registerSecretClient,
  signAssertion,
  tokenWithAssertion,
  uniqueId,
} from "../../support/helpers.js";
import { putClientRecord, sealSecret } from "../../support/raw.js";
import { clientKey } from "../../../src/stores/kv-keys.js";

const basic = (clientId: string, secret: string) =>
  postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa(`${clientId}:${secret}`)}` });
const post = (clientId: string, secret: string) => postForm({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
const hmacAssertion = (clientId: string, secret: string) =>
  signAssertion(new TextEncoder().encode(secret), assertionClaims(clientId), { alg: "HS256" });

async function rotate(clientId: string, body?: unknown): Promise<Record<string, any>> {
  const res = await admin("POST", `/admin/clients/${clientId}/secret`, body);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe("client secret rotation with overlap", () => {
  it("by default the old secret keeps working for a day next to the new one (client_secret_basic)", async () => {
    const { clientId, secret: oldSecret } = await registerSecretClient("client_secret_basic");
    const before = nowSeconds();
    const info = await rotate(clientId);

    expect(info.client_secret_previous_expires_at).toBeGreaterThanOrEqual(before + 86_400);
    expect(info.client_secret_previous_expires_at).toBeLessThanOrEqual(nowSeconds() + 86_400);
    expect(info).not.toHaveProperty("client_secret_previous_sealed");
    expect(info).not.toHaveProperty("client_secret_sealed");
    expect((await basic(clientId, oldSecret)).status).toBe(200);
    expect((await basic(clientId, info.client_secret)).status).toBe(200);
    await expectOAuthError(await basic(clientId, `${oldSecret}x`), 401, "invalid_client");

    const stored = (await env.CLIENTS.get(clientKey(clientId)))!;
    expect(stored).not.toContain(oldSecret);
    expect(stored).not.toContain(info.client_secret);
    // An admin read shows when the overlap ends, never a secret.
    const shown = await (await admin("GET", `/admin/clients/${clientId}`)).json<any>();
    expect(shown.client_secret_previous_expires_at).toBe(info.client_secret_previous_expires_at);
    expect(JSON.stringify(shown)).not.toMatch(/sealed|client_secret"/);
  });

  it("client_secret_post: both secrets work during the overlap", async () => {
    const { clientId, secret: oldSecret } = await registerSecretClient("client_secret_post");
    const { client_secret: newSecret } = await rotate(clientId, { previous_secret_valid_for: 600 });
    expect((await post(clientId, oldSecret)).status).toBe(200);
    expect((await post(clientId, newSecret)).status).toBe(200);
  });

  it("client_secret_jwt: assertions signed with the old or the new secret verify; another secret does not", async () => {
    const { clientId, secret: oldSecret } = await registerSecretClient("client_secret_jwt");
    const { client_secret: newSecret } = await rotate(clientId, { previous_secret_valid_for: 600 });
    expect((await tokenWithAssertion(await hmacAssertion(clientId, oldSecret))).status).toBe(200);
    expect((await tokenWithAssertion(await hmacAssertion(clientId, newSecret))).status).toBe(200);
    const wrong = await expectOAuthError(await tokenWithAssertion(await hmacAssertion(clientId, `${newSecret}x`)), 401, "invalid_client");
    expect(wrong.error_description).toMatch(/signature/);
  });

  it("a second rotation drops the first secret; the last two work", async () => {
    const { clientId, secret: first } = await registerSecretClient("client_secret_basic");
    const { client_secret: second } = await rotate(clientId);
    const { client_secret: third } = await rotate(clientId);
    await expectOAuthError(await basic(clientId, first), 401, "invalid_client");
    expect((await basic(clientId, second)).status).toBe(200);
    expect((await basic(clientId, third)).status).toBe(200);
  });

  it("a previous secret past its end does not authenticate; one before its end does", async () => {
    const oldSecret = "old-secret-0123456789abcdef0123456789abcdef";
    const newSecret = "new-secret-0123456789abcdef0123456789abcdef";
    for (const [offset, status] of [[-1, 401], [60, 200]] as const) {
      const clientId = uniqueId("overlap");
      await putClientRecord({
        client_id: clientId,
        token_endpoint_auth_method: "client_secret_basic",
        client_secret_sealed: await sealSecret(clientId, newSecret),
        client_secret_previous_sealed: await sealSecret(clientId, oldSecret),
        client_secret_previous_expires_at: nowSeconds() + offset,
      });
      expect((await basic(clientId, oldSecret)).status, `previous secret ending ${offset} s from now`).toBe(status);
      expect((await basic(clientId, newSecret)).status).toBe(200);
    }
  });

  it("refuses a bad previous_secret_valid_for with 400 naming it, and changes nothing", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    for (const body of [{ previous_secret_valid_for: -1 }, { previous_secret_valid_for: 30 * 86_400 + 1 }, { previous_secret_valid_for: "1h" }, { previous_secret_valid_for: 1.5 }]) {
      const res = await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/secret`, body), 400, "invalid_client_metadata");
      expect(res.error_description).toMatch(/^previous_secret_valid_for: /);
    }
    const unknown = await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/secret`, { overlap: 5 }), 400, "invalid_client_metadata");
    expect(unknown.error_description).toMatch(/overlap|body/);
    expect((await basic(clientId, secret)).status).toBe(200);
  });
});
