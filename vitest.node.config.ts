import { defineConfig } from "vitest/config";

// Tests that must run in Node rather than inside workerd: real Node client libraries and servers
// (the MCP SDK, Express) and the documented commands, against the Worker started as `wrangler dev`
// (test/support/node/local-worker.ts). The workerd suite is vitest.config.ts.
const report = process.env.VITEST_JSON_REPORT;
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // Each file starts its own wrangler dev; two at once is what a 2-core machine takes.
    maxWorkers: 2,
    reporters: report ? ["default", "json"] : ["default"],
    outputFile: report ? { json: report.replace(/\.json$/, "") + ".node.json" } : undefined,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
