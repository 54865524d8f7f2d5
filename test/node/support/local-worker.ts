/**
 * Runs the Worker as a user does, for tests that must run in Node (a real client library or
 * server on Node, the documented commands): `wrangler dev`, fully local, quiet and offline
 * (TOOLCHAIN.md), on a loopback port, with its own state directory, so each caller gets a fresh
 * KV namespace and fresh Durable Objects.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wranglerBin, "dev", "--local", "--ip", "127.0.0.1", "--port", String(options.port),
      "--inspector-port", "0", "--show-interactive-dev-session=false", "--persist-to", state,
      ...vars, ...(options.args ?? []),
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
    },
  );
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, output: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url}/healthz:\n${output}`);
}
