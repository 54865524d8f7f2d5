/**
 * Faults: the replay-guard Durable Object cannot be reached (SPEC §3 rule 10). The token endpoint
 * fails closed — 503 `temporarily_unavailable`, no token — whether the stub throws, the call
 * rejects, or it never answers (then after REPLAY_GUARD_TIMEOUT_MS). The assertion is not
 * burned by the failure: it still works once the guard is back.
 */
import { describe, expect, it } from "vitest";
import { JWT_BEARER, keyAssertion, type KeyClient, postForm, registerKeyClient, TOKEN_URL } from "../support/helpers.js";
import { captureWorkerLogs, expectUnavailable, faultyReplayGuard } from "../support/faults.js";

const logs = captureWorkerLogs();

function assertionRequest(assertion: string): Record<string, string> {
  return { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion };
}

/** The replay guard is out; then, with the real one, the same assertion gets its token. */
async function expectFailsClosed(client: KeyClient, overrides: Record<string, unknown>, calls: () => number) {
  const assertion = await keyAssertion(client);
  logs.clear();
  const body = await expectUnavailable(await postForm(assertionRequest(assertion), {}, TOKEN_URL, overrides));
  expect(body.error_description).toMatch(/replay guard/);
  expect(calls(), "the guard was asked").toBe(1);
  const line = logs.lines().find((l) => l.includes("replay_guard_unavailable"));
  expect(line, "the outage is logged").toBeDefined();
  expect(line).not.toContain(assertion.split(".")[2]!);
  // Nothing was recorded, so the assertion was not burned.
  expect((await postForm(assertionRequest(assertion))).status).toBe(200);
}

describe("faults: the replay guard is unavailable", () => {
  it("the stub's call rejects → 503 temporarily_unavailable, no token", async () => {
    const client = await registerKeyClient("ES256");
    const guard = faultyReplayGuard(() => Promise.reject(new Error("Durable Object reset because its code was updated")));
    await expectFailsClosed(client, { REPLAY_GUARD: guard.namespace }, guard.calls);
  });

  it("the stub throws synchronously → 503, no token", async () => {
    const client = await registerKeyClient("ES256");
    const guard = faultyReplayGuard(() => {
      throw new TypeError("stub.consume is not a function");
    });
    await expectFailsClosed(client, { REPLAY_GUARD: guard.namespace }, guard.calls);
  });

  it("getting the stub throws → 503, no token", async () => {
    const client = await registerKeyClient("ES256");
    const namespace = {
      idFromName: () => {
        throw new Error("namespace unavailable");
      },
      get: () => {
        throw new Error("namespace unavailable");
      },
    };
    const assertion = await keyAssertion(client);
    await expectUnavailable(await postForm(assertionRequest(assertion), {}, TOKEN_URL, { REPLAY_GUARD: namespace }));
    expect((await postForm(assertionRequest(assertion))).status).toBe(200);
  });

  it("the guard never answers → 503 once REPLAY_GUARD_TIMEOUT_MS has passed, no token", async () => {
    const client = await registerKeyClient("ES256");
    const guard = faultyReplayGuard(() => new Promise<boolean>(() => {}));
    // A short timeout keeps the test fast; the assertion is about the outcome, not the time.
    await expectFailsClosed(client, { REPLAY_GUARD: guard.namespace, REPLAY_GUARD_TIMEOUT_MS: "20" }, guard.calls);
  });

  it("a guard that answers after the timeout does not turn the 503 into a token", async () => {
    const client = await registerKeyClient("ES256");
    let release: (value: boolean) => void = () => {};
    const guard = faultyReplayGuard(() => new Promise<boolean>((resolve) => (release = resolve)));
    const res = await postForm(assertionRequest(await keyAssertion(client)), {}, TOKEN_URL, { REPLAY_GUARD: guard.namespace, REPLAY_GUARD_TIMEOUT_MS: "20" });
    release(true);
    await expectUnavailable(res);
  });

  it("the guard is not consulted for a request that fails an earlier check", async () => {
    const client = await registerKeyClient("ES256");
    const guard = faultyReplayGuard(() => Promise.reject(new Error("down")));
    const res = await postForm(assertionRequest(await keyAssertion(client, { aud: "https://elsewhere.test" })), {}, TOKEN_URL, { REPLAY_GUARD: guard.namespace });
    expect(res.status).toBe(401);
    expect(guard.calls()).toBe(0);
  });
});
