/**
 * A local server started as a child process for the Node-side tests (wrangler dev, `npm start`):
 * quiet and offline wrangler settings (TOOLCHAIN.md), output captured, started when `isUp` says
 * so, stopped with SIGTERM then SIGKILL. Both harnesses (local-worker.ts, scratch-repo.ts) use it.
 */
import { spawn } from "node:child_process";

/** Wrangler without telemetry, update checks or `request.cf` fetches. */
export const QUIET_WRANGLER_ENV = { CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

export interface ServerProcess {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Arguments to `node`. */
  readonly args: string[];
  readonly cwd?: string;
  readonly url: string;
  /** Whether the server is ready, given its output so far. */
  readonly isUp: (output: string) => Promise<boolean> | boolean;
  readonly startTimeoutMs: number;
  /** Named in the error when the server does not come up. */
  readonly name: string;
  /** Clean-up after the process ended (e.g. remove its state directory). */
  readonly afterStop?: () => void;
  /**
   * Start it in a process group of its own and stop the whole group: for a process that may not
   * pass signals on (`npm start` runs its script through `sh -c`).
   */
  readonly processGroup?: boolean;
}

/** True once `GET <url>/healthz` answers 200. */
export const healthy = (url: string) => () => fetch(`${url}/healthz`).then((r) => r.ok, () => false);

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    detached: options.processGroup === true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    if (options.processGroup !== true) return void child.kill(name);
    try {
      process.kill(-child.pid!, name);
    } catch {}
  };
  const stop = async () => {
    if (child.exitCode === null) signal("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null || options.processGroup === true) signal("SIGKILL");
    options.afterStop?.();
  };

  const deadline = Date.now() + options.startTimeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await options.isUp(output)) return { url: options.url, output: () => output, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${options.name} did not come up on ${options.url}:\n${output}`);
}
