/**
 * A fresh clone for tests that run what a user runs (the documented commands, `npm start`, plain
 * `wrangler dev`, the CLI): the repository's tracked sources copied to `<temporary dir>/edge-token-service`
 * with its own git history, `node_modules` linked, and no `.dev.vars`, `.wrangler/` or key file of
 * the developer's checkout. The temporary directory is the reader's workspace: what the docs build
 * beside the clone (`../orders-api`) goes there. `untracked()` lists what `git add .` would take.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { healthy, startServerProcess } from "./server-process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const COPIED = ["README.md", "docs", "src", "scripts", "examples", "wrangler.toml", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.node.json", ".gitignore"];

export interface ScratchRepo {
  /** The clone, `<workspace>/edge-token-service`. */
  readonly dir: string;
  /** The temporary directory that holds the clone and whatever the docs create beside it. */
  readonly workspace: string;
  /** Files git would add (untracked and not ignored), relative to `dir`. */
  untracked(): string[];
  /**
   * `npm start -- --port <port>` in this clone (or, with `plain`, `npx wrangler dev` as the
   * Workers docs start it; with `npmArgs`, `npm start <npmArgs>` itself); resolves once the server is up.
   */
  startDevServer(port: number, options?: { plain?: boolean; npmArgs?: string[] }): Promise<DevServer>;
  remove(): void;
}

export interface DevServer {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}


export function scratchRepo(): ScratchRepo {
  const workspace = mkdtempSync(join(tmpdir(), "ets-clone-"));
  const dir = join(workspace, "edge-token-service");
  mkdirSync(dir);
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
    workspace,
    untracked: () => git("status", "--porcelain", "--untracked-files=all").split("\n").filter((l) => l.startsWith("??")).map((l) => l.slice(3)),
    startDevServer: (port, options) => startDevServer(dir, port, options?.plain ?? false, options?.npmArgs),
    remove: () => rmSync(workspace, { recursive: true, force: true }),
  };
}

function startDevServer(dir: string, port: number, plain: boolean, npmArgs?: string[]): Promise<DevServer> {
  const url = `http://127.0.0.1:${port}`;
  return startServerProcess({
    args: npmArgs
      ? [npmCli(), "start", ...npmArgs]
      : plain
        ? ["node_modules/wrangler/bin/wrangler.js", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", "0", "--show-interactive-dev-session=false"]
        : ["scripts/dev.mjs", "--port", String(port)],
    // npm runs the script through `sh -c`, which does not pass SIGTERM on.
    processGroup: npmArgs !== undefined,
    cwd: dir,
    url,
    // dev.mjs prints its banner once the Worker answered and the demo clients were read.
    isUp: plain ? healthy(url) : (output) => /running locally on|could not print the demo clients/.test(output),
    startTimeoutMs: 90_000,
    name: plain ? "wrangler dev" : "npm start",
  });
}

/** npm's own script (npm-cli.js), run with this Node. */
function npmCli(): string {
  return process.env.npm_execpath?.endsWith(".js") ? process.env.npm_execpath : realpathSync(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
}
