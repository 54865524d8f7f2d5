/**
 * The docs as a reader follows them (issue 19): every marked block of every document, in the
 * order README → deploying → operating → token-lifecycle → interop → resource-servers →
 * federation (test/support/node/docs-session.ts DOCS_ORDER), against ONE clone, one `npm start` and one shell
 * session. Ids, key files and servers one document creates must not collide with a later one's;
 * test/node/docs.test.ts runs each document on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocsSession, documents } from "../support/node/docs-session.js";
import { PORTS } from "../support/node/ports.js";

let session: DocsSession;
beforeAll(async () => {
  session = await DocsSession.start(PORTS.docsInOrder);
}, 120_000);
afterAll(() => session?.close());

// A block after a failed one would fail for that reason alone: the first failure ends the walk.
let failed: string | undefined;

for (const { file, blocks } of documents()) {
  describe(file, () => {
    for (const block of blocks) {
      it(`line ${block.line}`, async (context) => {
        if (failed !== undefined) context.skip(`after the failure at ${failed}`);
        const { ok, report } = await session.run(block);
        if (!ok) failed = `${file}:${block.line}`;
        expect(ok, report).toBe(true);
      }, 180_000);
    }
  });
}

it("leaves no file that `git add .` would take", () => {
  expect(session.untracked()).toEqual([]);
});
