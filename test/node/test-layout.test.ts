/**
 * Tests mirror src/ (issue 17 item 4): the test of `src/<path>.ts|.js` is `test/<path>.test.ts`,
 * and several tests of one module sit in a folder named after it, `test/<path>/<topic>.test.ts`
 * (test/routes/token/ for the token endpoint). Every helper module lives in test/support/ (the
 * Node-side ones in test/support/node/); test/fixtures/ holds data only. Only the cross-cutting
 * suites below test no single module, and keep their own folders.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { expect, it } from "vitest";

/** Suites that cut across src/: each drives the whole Worker (or the whole package) from outside. */
const CROSS_CUTTING = {
  "test/fuzz/": "generated hostile input against every endpoint (fast-check)",
  "test/faults/": "failing bindings and settings, whatever route meets them",
  "test/interop/": "third-party OAuth clients (oauth4webapi, openid-client) against the Worker",
  "test/node/": "the Node-side suite (vitest.node.config.ts): wrangler dev, the docs test, the package",
} as const;

const SUPPORT = "test/support/";
const FIXTURES = "test/fixtures/";

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * What is out of place among `files` (paths from the repository root), one line each;
 * `inSrc(path)` says whether a src/ file exists.
 */
function layoutProblems(files: string[], inSrc: (path: string) => boolean): string[] {
  const module = (stem: string) => [".ts", ".js"].map((ext) => `src/${stem}${ext}`).find(inSrc);
  return files.flatMap((file) => {
    const isTest = file.endsWith(".test.ts");
    if (file.startsWith(SUPPORT)) return isTest ? [`${file}: a test in ${SUPPORT}, which holds helpers only`] : [];
    if (file.startsWith(FIXTURES)) return /\.(m?[jt]s)$/.test(file) ? [`${file}: a module in ${FIXTURES}, which holds data only; helpers go in ${SUPPORT}`] : [];
    if (!isTest) return [`${file}: not a test; helper modules go in ${SUPPORT}`];
    if (Object.keys(CROSS_CUTTING).some((dir) => file.startsWith(dir))) return [];
    const stem = file.slice("test/".length, -".test.ts".length);
    const folder = stem.includes("/") ? stem.slice(0, stem.lastIndexOf("/")) : null;
    if (module(stem) || (folder && module(folder))) return [];
    return [`${file}: no src/${stem}.ts|.js${folder ? ` nor src/${folder}.ts|.js` : ""}; put it at test/<path>.test.ts for src/<path>.ts, or test/<path>/<topic>.test.ts`];
  });
}

it("every test sits at the path of the src module it tests, every helper in test/support/", () => {
  const inSrc = (path: string) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  expect(layoutProblems(walk("test"), inSrc)).toEqual([]);
});

it("the check finds a test with no src module, a helper outside test/support/ and a test inside it", () => {
  const src = new Set(["src/routes/token.ts", "src/core/dpop.js", "src/oauth/client-auth/keys.ts"]);
  const problems = layoutProblems(
    [
      "test/routes/token/assertion-rules.test.ts",
      "test/core/dpop.test.ts",
      "test/oauth/client-auth/keys.test.ts",
      "test/fuzz/anything.test.ts",
      "test/support/helpers.ts",
      "test/fixtures/server-secrets.json",
      "test/routes/nowhere.test.ts",
      "test/federation/token-github.test.ts",
      "test/routes/token-helpers.ts",
      "test/support/helpers.test.ts",
      "test/fixtures/keys.ts",
    ],
    (path) => src.has(path),
  ).map((line) => line.split(":")[0]);
  expect(problems).toEqual([
    "test/routes/nowhere.test.ts",
    "test/federation/token-github.test.ts",
    "test/routes/token-helpers.ts",
    "test/support/helpers.test.ts",
    "test/fixtures/keys.ts",
  ]);
});

it("a folder of tests is named after a module: test/routes/token/ for src/routes/token.ts, not test/routes/", () => {
  const src = new Set(["src/routes/token.ts"]);
  expect(layoutProblems(["test/routes/token/x.test.ts", "test/routes/x.test.ts", "test/x.test.ts"], (path) => src.has(path))).toHaveLength(2);
});

it("README names test/support/ and each cross-cutting folder", () => {
  const readme = readFileSync("README.md", "utf8");
  for (const dir of [SUPPORT, ...Object.keys(CROSS_CUTTING)]) expect(readme, dir).toContain(`\`${dir}\``);
});
