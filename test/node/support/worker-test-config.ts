/**
 * The wrangler configuration the workerd suite runs with: wrangler.toml itself, copied into
 * `.wrangler/test-config/` with `main` made absolute. Wrangler reads `.dev.vars` from the
 * directory of the configuration it is given (and the vitest pool offers no way to turn that
 * off), so the repository's own `.dev.vars` — the developer's local admin token and any
 * `LOCAL_DEV_SIGNING_KEYS` written by `npm start` or `ets keys --local` — would otherwise become
 * bindings of the Worker under test. The copy's directory has no `.dev.vars`; every binding, var
 * and migration is still the one of wrangler.toml. test/node/worker-test-config.test.ts checks it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const MAIN = /^main\s*=\s*"([^"]+)"\s*$/m;

/** Writes the copy for the repository at `root` and returns its path. */
export function workerTestConfig(root: string): string {
  const source = readFileSync(join(root, "wrangler.toml"), "utf8");
  const main = MAIN.exec(source)?.[1];
  if (main === undefined) throw new Error("wrangler.toml has no top-level `main = \"…\"` line");
  const dir = join(root, ".wrangler", "test-config");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "wrangler.toml");
  const copy = `# Generated from wrangler.toml by test/node/support/worker-test-config.ts: edit wrangler.toml instead.\n${source.replace(MAIN, `main = ${JSON.stringify(resolve(root, main))}`)}`;
  // Written only when it changed, so two suites starting at once never see a half-written file.
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {}
  if (current !== copy) {
    writeFileSync(`${path}.${process.pid}`, copy);
    renameSync(`${path}.${process.pid}`, path);
  }
  return path;
}
