/**
 * Fault injection for test/faults/*.test.ts: faulty bindings (a throwing or silent replay guard,
 * a failing KV namespace) to pass as `callWorker` / `postForm` overrides (helpers.ts), and checks
 * of what a fault must yield. Every override is a new env object, so the per-isolate caches keyed
 * by env (settings, server context) start fresh; caches keyed by the KV namespace object (client
 * records) or by a secret's value (signing keys, secret box) start fresh when those are replaced.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, expect, vi } from "vitest";

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
