/**
 * The documented commands run as written. Every fenced block in README.md and docs/*.md whose
 * info string carries `docs-test` is run, in document order, one test per block:
 *
 *   ```sh docs-test            run with bash (set -eo pipefail); must succeed
 *   ```sh docs-test fails      a documented refusal: must exit non-zero
 *   ```sh docs-test restart    restart the local server first (the text tells the reader to)
 *
 * Per file: a fresh clone (test/node/support/scratch-repo.ts), `npm start` in it on a port of the
 * suite's block (support/ports.ts; the ports the docs name, 8787 and the examples', are rewritten), one
 * shell session whose variables and functions carry over from block to block, and at the end a
 * check that no file was left where `git add .` would take it. `curl` fails on an HTTP error
 * status here (`--fail-with-body`), so a documented request that gets an error fails the block.
 * Blocks that need Cloudflare (`wrangler login`, a real deploy, `wrangler secret put`) stay unmarked.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PORTS, rewritePorts, type DocsSlot } from "./support/ports.js";
import { scratchRepo, type DevServer, type ScratchRepo } from "./support/scratch-repo.js";


export interface DocBlock {
  file: string;
  line: number;
  code: string;
  fails: boolean;
  restart: boolean;
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
      blocks.push({ file, line: i + 1, code: body.join("\n"), fails: words.includes("fails"), restart: words.includes("restart") });
    }
    i = j;
  }
  return blocks;
}

const documents = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]
  .map((file) => ({ file, blocks: runnableBlocks(file, readFileSync(file, "utf8")) }))
  .filter((d) => d.blocks.length > 0);

describe.each(documents.map((d, index) => ({ ...d, slot: PORTS.docsPerFile[index % PORTS.docsPerFile.length]! as DocsSlot })))("$file", ({ blocks, slot }) => {
  const port = slot[0]!;
  let repo: ScratchRepo;
  let server: DevServer | undefined;
  let shell: string;

  beforeAll(async () => {
    repo = scratchRepo();
    shell = join(repo.dir, ".wrangler", "docs-test");
    mkdirSync(join(shell, "bin"), { recursive: true });
    writeFileSync(join(shell, "state.sh"), "");
    // curl as documented, but an HTTP error status fails the command.
    const realCurl = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(join(shell, "bin", "curl"), `#!/bin/sh\nexec ${realCurl} --fail-with-body "$@"\n`);
    chmodSync(join(shell, "bin", "curl"), 0o755);
    server = await repo.startDevServer(port);
  });

  afterAll(async () => {
    await server?.stop();
    repo?.remove();
  });

  for (const block of blocks) {
    it(`${block.fails ? "refuses" : "runs"}: line ${block.line}`, async () => {
      if (block.restart) {
        await server?.stop();
        server = await repo.startDevServer(port);
      }
      const { status, output } = runInSession(shell, repo.dir, rewritePorts(block.code, slot));
      const where = `${block.file}:${block.line} exited ${status}\n${output}\n--- server output ---\n${server?.output().slice(-3000)}`;
      if (block.fails) expect(status, where).not.toBe(0);
      else expect(status, where).toBe(0);
    });
  }

  it("leaves no file that `git add .` would take", () => {
    expect(repo.untracked().filter((f) => !f.startsWith(".wrangler/"))).toEqual([]);
  });
});

/**
 * Run `code` with bash in `cwd`, continuing the session kept in `shell`/state.sh: the variables
 * and functions of earlier blocks are defined, and this block's are saved for the next.
 */
function runInSession(shell: string, cwd: string, code: string): { status: number | null; output: string } {
  const state = join(shell, "state.sh");
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
  writeFileSync(join(shell, "block.sh"), script);
  const result = spawnSync("bash", [join(shell, "block.sh")], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...cleanEnv(), PATH: `${join(shell, "bin")}:${process.env.PATH}`, NO_COLOR: "1" },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The test process's environment without the CLI's own variables (a reader starts without them). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETS_")));
}
