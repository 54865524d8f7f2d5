/**
 * The documented commands run as written, one document at a time (README "Testing"): for each of
 * README.md and docs/*.md with marked blocks, a fresh clone, its own `npm start` and one shell
 * session, every marked block in document order (test/support/node/docs-session.ts says how blocks are
 * marked), then a check that no file was left where `git add .` would take it. So each document
 * stands on its own; test/node/docs-in-order.test.ts runs them all on one server, as a reader does.
 * Blocks that need Cloudflare (`wrangler login`, a real deploy, `wrangler secret put`) stay unmarked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCS_ORDER, DocsSession, documents } from "../support/node/docs-session.js";
import { PORTS } from "../support/node/ports.js";

const docs = documents();

it("every document with runnable blocks has its place in the reading order", () => {
  expect(docs.map((d) => d.file).filter((file) => !DOCS_ORDER.includes(file))).toEqual([]);
});

describe.each(docs.map((d, index) => ({ ...d, slot: PORTS.docsPerFile[index % PORTS.docsPerFile.length]! })))("$file", ({ blocks, slot }) => {
  let session: DocsSession;
  beforeAll(async () => {
    session = await DocsSession.start(slot);
  }, 120_000);
  afterAll(() => session?.close());

  for (const block of blocks) {
    const what = block.writeTo !== undefined ? `writes ${block.writeTo}` : block.background !== undefined ? "starts in the background" : block.fails ? "refuses" : "runs";
    it(`${what}: line ${block.line}`, async () => {
      const { ok, report } = await session.run(block);
      expect(ok, report).toBe(true);
    }, 180_000);
  }

  it("leaves no file that `git add .` would take", () => {
    expect(session.untracked()).toEqual([]);
  });
});
