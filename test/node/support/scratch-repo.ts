/**
 * A fresh clone for tests that run what a user runs (the documented commands, `npm start`, plain
 * `wrangler dev`, the CLI): the repository's tracked sources copied to a temporary directory with
 * its own git history, `node_modules` linked, and no `.dev.vars`, `.wrangler/` or key file of the
 * developer's checkout. `untracked()` lists what `git add .` would take there.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const COPIED = ["README.md", "docs", "src", "scripts", "examples", "wrangler.toml", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.node.json", ".gitignore"];

export interface ScratchRepo {
  readonly dir: string;
  /** Files git would add (untracked and not ignored), relative to `dir`. */
  untracked(): string[];
  /**
   * `npm start -- --port <port>` in this clone (or, with `plain`, `npx wrangler dev` as the
   * Workers docs start it); resolves once the server is up.
   */
  startDevServer(port: number, options?: { plain?: boolean }): Promise<DevServer>;
  remove(): void;
}

export interface DevServer {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

export const QUIET_WRANGLER_ENV = { CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

export function scratchRepo(): ScratchRepo {
  const dir = mkdtempSync(join(tmpdir(), "ets-clone-"));
  for (const entry of COPIED) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=docs-test", "-c", "user.email=docs-test@localhost", ...args], { cwd: dir, encoding: "utf8" });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "clone");
  return {
    dir,
    untracked: () => git("status", "--porcelain", "--untracked-files=all").split("\n").filter((l) => l.startsWith("??")).map((l) => l.slice(3)),
    startDevServer: (port, options) => startDevServer(dir, port, options?.plain ?? false),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function startDevServer(dir: string, port: number, plain: boolean): Promise<DevServer> {
  const url = `http://127.0.0.1:${port}`;
  const args = plain
    ? ["node_modules/wrangler/bin/wrangler.js", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", "0", "--show-interactive-dev-session=false"]
    : ["scripts/dev.mjs", "--port", String(port)];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  const deadline = Date.now() + 90_000;
  // dev.mjs prints its banner once the Worker answered and the demo clients were read.
  while (Date.now() < deadline && child.exitCode === null) {
    const up = plain ? await fetch(`${url}/healthz`).then((r) => r.ok, () => false) : /running locally on|could not print the demo clients/.test(output);
    if (up) return { url, output: () => output, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`npm start did not come up on ${url}:\n${output}`);
}
