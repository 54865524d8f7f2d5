/**
 * Every file a comment or a doc names exists (issue 17 item 4): the comments of src/, README.md,
 * docs/*.md, src/README.md and bench/README.md are scanned for repository paths (`src/stores/x.ts`,
 * `test/node/docs.test.ts`, `docs/operating.md`, a Markdown link), and each must resolve to a file
 * or directory: from the repository root, from the naming file's directory, or (in src/) from
 * src/. Not checked: placeholders (`<id>`, `…`, `*`, `$VAR`), paths outside the repository (`../`,
 * `/`, URLs, package specifiers such as `jose/…` or `@scope/…`), and what is generated or local
 * (.gitignore'd: `.wrangler/`, `.secrets/`, `dist/`, …).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { expect, it } from "vitest";

/** A path-like token: segments of word characters, dots and dashes, at least one `/`, or a `.md` file. */
const PATH_TOKEN = /(?<![\w@./:-])(?:\.{0,2}[\w-][\w.-]*\/)+[\w.-]+\/?|(?<![\w@./:-])[\w-]+\.md\b/g;

/**
 * Files of the reader's own projects that the docs name, not files of this repository: the
 * GitHub Actions workflow of docs/federation.md.
 */
const READERS_FILES = new Set([".github/workflows/deploy.yml"]);

/** Top-level names of this repository: a path naming one of them is a repository path. */
const TOP_LEVEL = new Set(readdirSync(".").filter((name) => name !== "node_modules" && name !== ".git"));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** The comments of a JS/TS source (line and block comments). */
function comments(source: string): string {
  return (source.match(/\/\*[\s\S]*?\*\/|(?<![:"'`\\])\/\/[^\n]*/g) ?? []).join("\n");
}

/** Paths git ignores (generated or local): never checked. */
function ignored(paths: string[]): Set<string> {
  if (paths.length === 0) return new Set();
  try {
    return new Set(execFileSync("git", ["check-ignore", "--no-index", "--stdin"], { input: paths.join("\n"), encoding: "utf8" }).split("\n").filter(Boolean));
  } catch {
    return new Set(); // exit code 1: none ignored
  }
}

function candidates(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(PATH_TOKEN)) {
    const token = match[0].replace(/[.,;:]+$/, "");
    const after = text[match.index! + match[0].length];
    if (after !== undefined && /[<>…*${]/.test(after)) continue; // a placeholder follows: `.secrets/<id>…`
    const before = text[match.index! - 1];
    if (before !== undefined && /[<>…*$]/.test(before)) continue;
    const first = token.split("/")[0]!;
    if (token.startsWith("../") || token.startsWith("/") || READERS_FILES.has(token)) continue; // outside the repository
    if (token.split("/").some((segment) => segment.endsWith("-"))) continue; // an abbreviation: `client-/key-/credential-mutations.ts`
    if (!token.includes("/")) {
      found.add(token);
      continue;
    }
    // A repository path starts with one of its top-level names or is relative (`./x`, `core/x.ts`
    // under src/); `example.com/…` is a host, `jose/…`, `hono/…` a package.
    if (first.includes(".") && !first.startsWith(".")) continue;
    if (!/\.[a-z]{1,5}$|\/$/.test(token) && !TOP_LEVEL.has(first)) continue; // `edge-token-service/resource`, `ets/client`
    found.add(token);
  }
  return [...found];
}

/** src/ and every directory below it: the layout trees and comments name files relative to them. */
const SOURCE_DIRS = ["src", ...walkDirs("src")];
function walkDirs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? [join(dir, name), ...walkDirs(join(dir, name))] : []));
}

function missing(file: string, text: string): string[] {
  const roots = [".", dirname(file), ...SOURCE_DIRS];
  const tokens = candidates(text).map((token) => ({ token, paths: roots.map((root) => normalize(join(root, token.split("#")[0]!))) }));
  const skip = ignored(tokens.flatMap((t) => t.paths));
  return tokens
    .filter(({ paths }) => !paths.some((path) => existsSync(path) || skip.has(path)))
    .map(({ token }) => `${file}: ${token}`);
}

function markdownText(markdown: string): string {
  // A file the reader writes in another project (a docs-test `file=../…` block) names that project's files.
  const withoutOtherProjects = markdown.replace(/^(\s*)(`{3,})[^\n]*\bfile=\.\.\/[^\n]*\n[\s\S]*?^\1\2\s*$/gm, "");
  // Markdown link targets are paths too: [text](docs/operating.md#anchor).
  return withoutOtherProjects.replace(/\]\(([^)\s]+)\)/g, (_, target: string) => (/^[a-z]+:/.test(target) || target.startsWith("#") ? "]" : `] ${target} `));
}

it("every repository path named in src/ comments and in the docs exists", () => {
  const sources = walk("src").filter((f) => /\.(ts|js|mjs)$/.test(f));
  const docs = ["README.md", "src/README.md", "bench/README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  const problems = [
    ...sources.flatMap((file) => missing(file, comments(readFileSync(file, "utf8")))),
    ...docs.filter((file) => existsSync(file)).flatMap((file) => missing(file, markdownText(readFileSync(file, "utf8")))),
  ];
  expect(problems).toEqual([]);
});

it("the check finds a path that does not exist", () => {
  expect(missing("src/example.ts", "// see src/stores/no-such-store.ts and docs/operating.md")).toEqual(["src/example.ts: src/stores/no-such-store.ts"]);
  expect(missing("docs/x.md", markdownText("[the guide](no-such-guide.md#top), `test/node/docs.test.ts`, `.secrets/<id>.private.jwk.json`, `../orders-api/src/index.js`"))).toEqual([
    "docs/x.md: no-such-guide.md",
  ]);
});
