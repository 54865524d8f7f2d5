/**
 * SPEC §3 rule 10: single-use assertions through the ReplayGuard Durable Object — concurrent
 * presentations, how long a jti is remembered, the purge alarm, and failing closed when the
 * guard cannot be reached.
 */
import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  callWorker,
  expectOAuthError,
  formInit,
  JWT_BEARER,
  keyAssertion,
  nowSeconds,
  registerKeyClient,
  TOKEN_URL,
  tokenWithAssertion,
} from "../helpers.js";
import { PURGE_DELAY_MS, PURGE_GRACE_SECONDS } from "../../src/stores/expiring-keys.js";

/** Rows of every replay-guard shard whose key ends with `jti`. */
async function guardRowsFor(jti: string): Promise<{ key: string; expires_at: number }[]> {
  const rows: { key: string; expires_at: number }[] = [];
  for (const id of await listDurableObjectIds(env.REPLAY_GUARD)) {
    const found = await runInDurableObject(env.REPLAY_GUARD.get(id), (_, state) =>
      state.storage.sql.exec<{ key: string; expires_at: number }>("SELECT key, expires_at FROM used WHERE key LIKE ?", `%${jti}`).toArray(),
    );
    rows.push(...found);
  }
  return rows;
}

describe("single use", () => {
  it("25 concurrent requests with one assertion: exactly one token, the rest invalid_client", async () => {
    const client = await registerKeyClient();
    const assertion = await keyAssertion(client);
    const responses = await Promise.all(Array.from({ length: 25 }, () => tokenWithAssertion(assertion)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(decodeJwt((await ok[0]!.json<any>()).access_token).client_id).toBe(client.clientId);
    for (const res of responses.filter((r) => r.status !== 200)) {
      const body = await expectOAuthError(res, 401, "invalid_client");
      expect(body.error_description).toMatch(/already been used/);
    }
  });

  it("the same jti from two different clients is two different assertions", async () => {
    const [a, b] = [await registerKeyClient(), await registerKeyClient()];
    const jti = crypto.randomUUID();
    expect((await tokenWithAssertion(await keyAssertion(a, { jti }))).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(b, { jti }))).status).toBe(200);
  });

  it("remembers (client_id, jti) until the assertion's exp plus the clock skew", async () => {
    const client = await registerKeyClient();
    const jti = crypto.randomUUID();
    const exp = nowSeconds() + 90;
    expect(await guardRowsFor(jti)).toEqual([]);
    expect((await tokenWithAssertion(await keyAssertion(client, { jti, exp }))).status).toBe(200);
    // One row, in the client's own object (SPEC §10), until exp + skew.
    const rows = await guardRowsFor(jti);
    expect(rows).toHaveLength(1);
    for (const row of rows) {
      expect(row.key).toContain(client.clientId);
      expect(row.expires_at).toBe(exp + 15);
    }
  });
});

describe("purge alarm", () => {
  it("is set for the earliest expiry and is not postponed by keys that expire later (steady traffic)", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("purge-steady"));
    const now = nowSeconds();
    for (let i = 0; i < 5; i++) expect((await stub.consume(`k${i}`, now + 60 + i))).toBe(true);
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).toBe((now + 60 + PURGE_GRACE_SECONDS) * 1000 + PURGE_DELAY_MS);
    // A key that expires sooner brings it forward.
    expect(await stub.consume("sooner", now + 30)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe((now + 30 + PURGE_GRACE_SECONDS) * 1000 + PURGE_DELAY_MS);
  });

  it("deletes expired rows, keeps live ones, and schedules the next purge", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName("purge-test"));
    const now = nowSeconds();
    expect(await stub.consume("live", now + 3600)).toBe(true);
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("INSERT INTO used (key, expires_at) VALUES (?, ?), (?, ?)", "expired-1", now - 120 - PURGE_GRACE_SECONDS, "expired-2", now - 1 - PURGE_GRACE_SECONDS);
    });

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const { keys, alarm } = await runInDurableObject(stub, async (_, state) => ({
      keys: state.storage.sql.exec<{ key: string }>("SELECT key FROM used ORDER BY key").toArray().map((r) => r.key),
      alarm: await state.storage.getAlarm(),
    }));
    expect(keys).toEqual(["live"]);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThanOrEqual((now + 3600) * 1000);
    // The live key is still guarded; a purged key is simply gone.
    expect(await stub.consume("live", now + 3600)).toBe(false);
  });
});

describe("fail closed", () => {
  it("answers 503 temporarily_unavailable and issues no token when the guard cannot be reached", async () => {
    const client = await registerKeyClient();
    const assertion = await keyAssertion(client);
    let consumeCalls = 0;
    const unreachable = {
      idFromName: (name: string) => env.REPLAY_GUARD.idFromName(name),
      get: () => ({
        consume: async () => {
          consumeCalls++;
          throw new Error("Durable Object unreachable");
        },
      }),
    };
    const form = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion });
    const res = await callWorker(TOKEN_URL, form, { REPLAY_GUARD: unreachable });
    const text = await res.text();
    expect(consumeCalls).toBe(1);
    expect(res.status).toBe(503);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = JSON.parse(text);
    expect(body.error).toBe("temporarily_unavailable");
    expect(body.error_description).toMatch(/replay guard/);
    expect(body.access_token).toBeUndefined();
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT anywhere in the answer
  });

  it("a failing guard never leaks an error stack or a 500", async () => {
    const client = await registerKeyClient();
    const broken = { idFromName: () => { throw new TypeError("binding broken"); }, get: () => ({}) };
    const form = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const res = await callWorker(TOKEN_URL, form, { REPLAY_GUARD: broken });
    expect(res.status).toBe(503);
    expect(await res.text()).not.toMatch(/TypeError|at .*\.ts/);
  });
});
