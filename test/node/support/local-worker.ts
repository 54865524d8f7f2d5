/**
 * Runs the Worker as a user does, for tests that must run in Node (a real client library or
 * server on Node, the documented commands): `wrangler dev`, fully local, quiet and offline
 * (TOOLCHAIN.md), on a loopback port, with its own state directory, so each caller gets a fresh
 * KV namespace and fresh Durable Objects, and without the developer's .dev.vars.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { healthy, startServerProcess } from "./server-process.js";
import { workerTestConfig } from "./worker-test-config.js";

export interface LocalWorker {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Everything the Worker printed so far (stdout and stderr). */
  output(): string;
  /** Stop wrangler and its workerd processes and remove the state directory. */
  stop(): Promise<void>;
}

export interface LocalWorkerOptions {
  port: number;
  /** `--var NAME:VALUE` overrides (settings, and secrets for a production-like Worker). */
  vars?: Record<string, string>;
  /** Extra wrangler arguments. */
  args?: string[];
  /** How long to wait for /healthz; default 60 s (a loaded 2-core machine is slow to start workerd). */
  startTimeoutMs?: number;
}

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const state = mkdtempSync(join(tmpdir(), "ets-worker-"));
  const url = `http://127.0.0.1:${options.port}`;
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  return startServerProcess({
    args: [
      // wrangler.toml through the suite's copy, so the developer's .dev.vars is not read.
      wranglerBin, "dev", "--config", workerTestConfig(process.cwd()), "--local", "--ip", "127.0.0.1", "--port", String(options.port),
      "--inspector-port", "0", "--show-interactive-dev-session=false", "--persist-to", state,
      ...vars, ...(options.args ?? []),
    ],
    url,
    isUp: healthy(url),
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    name: "wrangler dev",
    afterStop: () => rmSync(state, { recursive: true, force: true }),
  });
}
