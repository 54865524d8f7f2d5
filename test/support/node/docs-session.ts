/**
 * What the docs test runs (README "Testing"): the marked blocks of README.md and docs/*.md, as a
 * reader runs them, in a fresh clone with its own `npm start`. Two modes use it:
 * test/node/docs.test.ts (one session per document) and test/node/docs-in-order.test.ts (one
 * session for every document, in the order a reader meets them, `DOCS_ORDER`).
 *
 * A fenced block whose info string carries `docs-test` is run; more words say how:
 *
 *   ```sh docs-test              bash (set -eo pipefail), must succeed
 *   ```sh docs-test fails        a documented refusal: must exit non-zero
 *   ```sh docs-test restart      restart the local token service first (the text tells the reader to)
 *   ```sh docs-test background=3000
 *                                a server the reader leaves running in another terminal: started in
 *                                the background, ready once 127.0.0.1:3000 answers HTTP, stopped when
 *                                the session ends
 *   ```js docs-test file=../orders-api/src/index.js
 *                                a file the reader writes: its text is saved at that path (relative
 *                                to the clone; `..` is the reader's workspace beside it)
 *
 * The ports the docs name (test/support/node/ports.ts DOCUMENTED_PORTS: 8787, 8788, 3000, …) are rewritten to
 * the session's own in every block and file. One bash session per run: the variables and functions
 * of earlier blocks are defined in later ones; every block starts in the clone. `curl` fails on an
 * HTTP error status (`--fail-with-body`), so a documented request that gets an error fails its block.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { rewritePorts, DOCUMENTED_PORTS, type DocsSlot } from "./ports.js";
import { scratchRepo, type DevServer, type ScratchRepo } from "./scratch-repo.js";
import { QUIET_WRANGLER_ENV } from "./server-process.js";

/** The order a reader follows the documents in (issue 19): every document with a marked block is here. */
export const DOCS_ORDER = [
  "README.md",
  "docs/deploying.md",
  "docs/operating.md",
  "docs/token-lifecycle.md",
  "docs/interop.md",
  "docs/resource-servers.md",
  "docs/federation.md",
];

export interface DocBlock {
  file: string;
  line: number;
  code: string;
  fails: boolean;
  restart: boolean;
  /** `background=PORT`: the documented port the server listens on. */
  background: number | undefined;
  /** `file=PATH`: where the block's text is written instead of run. */
  writeTo: string | undefined;
}

/** The runnable blocks of one Markdown text. */
export function runnableBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S+)?(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const words = `${open[3] ?? ""} ${open[4] ?? ""}`.trim().split(/\s+/);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trim().startsWith(fence); j++) body.push(lines[j]!.slice(open[1]!.length));
    if (words.includes("docs-test")) {
      const value = (key: string) => words.find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
      const background = value("background");
      blocks.push({
        file,
        line: i + 1,
        code: body.join("\n"),
        fails: words.includes("fails"),
        restart: words.includes("restart"),
        background: background === undefined ? undefined : Number(background),
        writeTo: value("file"),
      });
    }
    i = j;
  }
  return blocks;
}

/** README.md and every docs/*.md with a marked block, each with its blocks, in `DOCS_ORDER`. */
export function documents(root = "."): { file: string; blocks: DocBlock[] }[] {
  const files = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  const found = files.map((file) => ({ file, blocks: runnableBlocks(file, readFileSync(join(root, file), "utf8")) })).filter((d) => d.blocks.length > 0);
  const rank = (file: string) => (DOCS_ORDER.includes(file) ? DOCS_ORDER.indexOf(file) : DOCS_ORDER.length);
  return found.sort((a, b) => rank(a.file) - rank(b.file));
}

export interface BlockResult {
  ok: boolean;
  /** What to print when it failed: where, exit status, output, the server's recent output. */
  report: string;
}

/** One reader: a clone, its `npm start` on the slot's first port, one shell session. */
export class DocsSession {
  readonly #repo: ScratchRepo;
  readonly #slot: DocsSlot;
  readonly #shell: string;
  #server: DevServer | undefined;
  readonly #background: { child: ChildProcess; log: string; block: DocBlock }[] = [];

  private constructor(repo: ScratchRepo, slot: DocsSlot) {
    this.#repo = repo;
    this.#slot = slot;
    this.#shell = join(repo.dir, ".wrangler", "docs-test");
  }

  static async start(slot: DocsSlot): Promise<DocsSession> {
    const session = new DocsSession(scratchRepo(), slot);
    mkdirSync(join(session.#shell, "bin"), { recursive: true });
    writeFileSync(join(session.#shell, "state.sh"), "");
    // curl as documented, but an HTTP error status fails the command (a block that asks for
    // `-f` / `--fail` itself keeps it: curl refuses both at once).
    const realCurl = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(
      join(session.#shell, "bin", "curl"),
      `#!/bin/sh\nfor a in "$@"; do case "$a" in --fail|--fail-with-body|-[!-]*f*) exec ${realCurl} "$@";; esac; done\nexec ${realCurl} --fail-with-body "$@"\n`,
    );
    chmodSync(join(session.#shell, "bin", "curl"), 0o755);
    session.#server = await session.#repo.startDevServer(slot[0]!);
    return session;
  }

  /** Files `git add .` would take in the clone (the docs' own workspace files outside it do not count). */
  untracked(): string[] {
    return this.#repo.untracked().filter((f) => !f.startsWith(".wrangler/"));
  }

  async run(block: DocBlock): Promise<BlockResult> {
    const code = rewritePorts(block.code, this.#slot);
    if (block.writeTo !== undefined) {
      const path = resolve(this.#repo.dir, block.writeTo);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${code}\n`);
      return { ok: true, report: "" };
    }
    if (block.restart) {
      await this.#server?.stop();
      this.#server = await this.#repo.startDevServer(this.#slot[0]!);
    }
    if (block.background !== undefined) return this.#runInBackground(block, code);
    const { status, output } = this.#runInSession(code);
    const ok = block.fails ? status !== 0 : status === 0;
    return { ok, report: this.#report(block, `exited ${status}${block.fails ? " (a documented refusal must fail)" : ""}\n${output}`) };
  }

  async close(): Promise<void> {
    for (const { child } of this.#background) killGroup(child);
    await this.#server?.stop();
    this.#repo.remove();
  }

  #report(block: DocBlock, what: string): string {
    const background = this.#background.map((b) => `--- ${b.block.file}:${b.block.line} (background) ---\n${readFileSync(b.log, "utf8").slice(-1500)}`);
    return [`${block.file}:${block.line} ${what}`, "--- token service output ---", this.#server?.output().slice(-3000) ?? "", ...background].join("\n");
  }

  async #runInBackground(block: DocBlock, code: string): Promise<BlockResult> {
    const index = DOCUMENTED_PORTS.indexOf(block.background as (typeof DOCUMENTED_PORTS)[number]);
    if (index === -1) return { ok: false, report: `${block.file}:${block.line}: background=${block.background} is not one of the documented ports ${DOCUMENTED_PORTS.join(", ")}` };
    const port = this.#slot[index]!;
    const script = join(this.#shell, `background-${this.#background.length}.sh`);
    writeFileSync(script, [`source ${JSON.stringify(join(this.#shell, "state.sh"))}`, "set -eo pipefail", code].join("\n"));
    const log = `${script}.log`;
    const out = openSync(log, "w");
    const child = spawn("bash", [script], { cwd: this.#repo.dir, env: this.#env(), stdio: ["ignore", out, out], detached: true });
    this.#background.push({ child, log, block });
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      if (child.exitCode !== null) return { ok: false, report: this.#report(block, `exited ${child.exitCode} before 127.0.0.1:${port} answered`) };
      if (await answers(`http://127.0.0.1:${port}/`)) return { ok: true, report: "" };
      await new Promise((r) => setTimeout(r, 250));
    }
    return { ok: false, report: this.#report(block, `127.0.0.1:${port} did not answer within 120 s`) };
  }

  /**
   * Run `code` with bash in the clone, continuing the session kept in state.sh: the variables and
   * functions of earlier blocks are defined, and this block's are saved for the next.
   */
  #runInSession(code: string): { status: number | null; output: string } {
    const state = join(this.#shell, "state.sh");
    const script = [
      "__docs_base=$(compgen -v)",
      `source ${JSON.stringify(state)}`,
      "__docs_save() {",
      "  local rc=$?",
      `  { for v in $(compgen -v | grep -vxF -e "$__docs_base" -e __docs_base -e rc); do declare -p "$v" 2>/dev/null; done; declare -f; } > ${JSON.stringify(`${state}.next`)}`,
      `  mv ${JSON.stringify(`${state}.next`)} ${JSON.stringify(state)}`,
      "  return $rc",
      "}",
      "trap __docs_save EXIT",
      "set -eo pipefail",
      code,
    ].join("\n");
    writeFileSync(join(this.#shell, "block.sh"), script);
    const result = spawnSync("bash", [join(this.#shell, "block.sh")], { cwd: this.#repo.dir, encoding: "utf8", timeout: 170_000, env: this.#env() });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /**
   * A reader's environment: none of the CLI's own variables (a reader starts without them), quiet
   * offline wrangler, and npm preferring its cache (the same installs, without a registry round trip each).
   */
  #env(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETS_") && !name.startsWith("npm_")));
    return {
      ...env,
      ...QUIET_WRANGLER_ENV,
      PATH: `${join(this.#shell, "bin")}:${process.env.PATH}`,
      NO_COLOR: "1",
      npm_config_prefer_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    };
  }
}

/** True once `url` answers HTTP at all (any status). */
const answers = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);

function killGroup(child: ChildProcess): void {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(-child.pid!, signal);
    } catch {}
  }
}
