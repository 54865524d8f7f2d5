/**
 * Fault injection for test/faults/*.test.ts: the Worker's fetch handler called directly with the
 * test bindings and some of them replaced (a throwing or silent replay guard, a failing KV
 * namespace, broken secrets). Every override is a new env object, so the per-isolate caches keyed
 * by env (settings, server context) start fresh; caches keyed by the KV namespace object (client
 * records) or by a secret's value (signing keys, secret box) start fresh when those are replaced.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, expect, vi } from "vitest";

/** Bindings to replace (any value, faulty on purpose); `undefined` removes the binding. */
export type EnvOverrides = Partial<Record<keyof Env, unknown>> & Record<string, unknown>;

/** One request to the Worker with `overrides` applied to the test env (`undefined` removes a binding). */
export { callWorker } from "../support.js";
import { callWorker } from "../support.js";

/** POST a form through `callWorker`. */
export function postFormWith(overrides: EnvOverrides, params: Record<string, string>, headers: Record<string, string> = {}, path = "/oauth2/token"): Promise<Response> {
  return callWorker(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(params).toString() }, overrides);
}

/**
 * A REPLAY_GUARD namespace whose objects answer `consume` with `consume()` (a rejection, a
 * promise that never settles, ...). Counts the calls, so a test can tell the guard was reached.
 */
export function faultyReplayGuard(consume: () => Promise<boolean>): { namespace: unknown; calls: () => number } {
  let calls = 0;
  const stub = {
    consume: () => {
      calls++;
      return consume();
    },
  };
  const namespace = {
    idFromName: (name: string) => env.REPLAY_GUARD.idFromName(name),
    get: () => stub,
  };
  return { namespace, calls: () => calls };
}

/** A KV namespace whose every operation fails like an outage (or as `behaviour` says). */
export function faultyKv(behaviour: Partial<Record<"get" | "put" | "delete" | "list", (...args: unknown[]) => unknown>> = {}): KVNamespace {
  const outage = () => Promise.reject(new Error("KV is unavailable (injected fault)"));
  return {
    get: behaviour.get ?? outage,
    getWithMetadata: outage,
    put: behaviour.put ?? outage,
    delete: behaviour.delete ?? outage,
    list: behaviour.list ?? outage,
  } as unknown as KVNamespace;
}

/** Assert a 503 temporarily_unavailable with no token, no-store and Retry-After; returns the body. */
export async function expectUnavailable(res: Response): Promise<{ error: string; error_description: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(503);
  const body = JSON.parse(text);
  expect(body.error).toBe("temporarily_unavailable");
  expect(typeof body.error_description).toBe("string");
  expect(body).not.toHaveProperty("access_token");
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Retry-After")).not.toBeNull();
  return body;
}

/**
 * Capture the Worker's log lines (it runs in this isolate) instead of printing them, so a test
 * can check that a fault is logged, and logged without secrets.
 */
export function captureWorkerLogs(): { lines(): string[]; clear(): void } {
  const captured: string[] = [];
  const spies: { mockRestore(): void }[] = [];
  const record = (...args: unknown[]) => void captured.push(args.map(String).join(" "));
  beforeAll(() => {
    spies.push(vi.spyOn(console, "log").mockImplementation(record), vi.spyOn(console, "error").mockImplementation(record));
  });
  afterAll(() => spies.splice(0).forEach((spy) => spy.mockRestore()));
  return { lines: () => [...captured], clear: () => void captured.splice(0) };
}
