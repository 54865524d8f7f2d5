/**
 * Every TCP port the Node suite listens on, in one place (README "Testing"). They form one block
 * of 40 ports starting at `ETS_TEST_PORT_BASE` (default 8800, so 8800-8839): away from 8787, the
 * port of a developer's own `npm start`, and movable as a whole, so two checkouts can run their
 * suites side by side (`ETS_TEST_PORT_BASE=9000 npm test`).
 */

const DEFAULT_BASE = 8800;
const BLOCK_SIZE = 40;

/** The first port of the block, from `ETS_TEST_PORT_BASE`; a bad value fails loudly, naming it. */
export function portBase(value = process.env.ETS_TEST_PORT_BASE): number {
  if (value === undefined || value === "") return DEFAULT_BASE;
  const base = Number(value);
  if (!/^\d+$/.test(value) || base < 1024 || base + BLOCK_SIZE - 1 > 65535) {
    throw new Error(`ETS_TEST_PORT_BASE must be a port number from 1024 to ${65535 - BLOCK_SIZE + 1} (the suite uses ${BLOCK_SIZE} ports from it), got ${JSON.stringify(value)}`);
  }
  return base;
}

/**
 * A docs-test slot: the ports one run of the documented commands uses, each standing for the port
 * the docs name (`DOCUMENTED_PORTS`), so `127.0.0.1:8787` in a block becomes `127.0.0.1:<slot[0]>`.
 */
export type DocsSlot = readonly number[];

/**
 * The ports the docs name, in slot order: the token service (`npm start`), the Hono example
 * (`wrangler dev --port 8788`), the Express and MCP examples, and the local fake issuer of
 * docs/federation.md.
 */
export const DOCUMENTED_PORTS = [8787, 8788, 3000, 3001, 8790] as const;

const base = portBase();
const slot = (first: number): DocsSlot => DOCUMENTED_PORTS.map((_, i) => first + i);

export const PORTS = {
  /** test/node/local-worker.test.ts */
  localWorker: base,
  /** test/node/mcp-sdk.test.ts: the Worker and the MCP server. */
  mcpWorker: base + 1,
  mcpServer: base + 2,
  /** test/node/federation-e2e.test.ts: the Worker and the fake OIDC issuer. */
  federationWorker: base + 3,
  federationIssuer: base + 4,
  /** test/node/local-dev.test.ts */
  localDev: base + 5,
  /** test/node/grants-e2e.test.ts: the Worker, the fake workload issuer and the MCP server. */
  grantsWorker: base + 6,
  grantsIssuer: base + 7,
  grantsMcpServer: base + 8,
  /** test/node/docs.test.ts, one document at a time: two slots, used in turn. */
  docsPerFile: [slot(base + 10), slot(base + 20)] as const,
  /** test/node/docs-in-order.test.ts: every document on one server. */
  docsInOrder: slot(base + 30),
} as const;

/**
 * A block's text with every documented port moved to the slot's: `127.0.0.1:8787`, `--port 8788`,
 * `app.listen(3000, …)` alike (a whole number equal to a documented port, never part of a longer one).
 */
export function rewritePorts(text: string, slot: DocsSlot): string {
  return text.replace(/(?<![\d.])\d{4}(?![\d])/g, (n) => {
    const i = DOCUMENTED_PORTS.indexOf(Number(n) as (typeof DOCUMENTED_PORTS)[number]);
    return i === -1 ? n : String(slot[i]);
  });
}
