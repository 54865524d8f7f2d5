import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import testSecrets from "./test/fixtures/server-secrets.json" with { type: "json" };
import { quietKnownRuntimeNoise } from "./test/node/support/quiet-output.js";
import { workerTestConfig } from "./test/node/support/worker-test-config.js";

// A green run prints nothing but results: these exact lines come from the pool and Vite, not from
// our code (test/node/support/quiet-output.ts says which and why).
quietKnownRuntimeNoise();

// Every test file runs inside workerd with the real KV namespace and Durable Objects declared in
// wrangler.toml (storage is isolated per test file), read from a copy beside which there is no
// .dev.vars (test/node/support/worker-test-config.ts): the developer's local secrets never reach
// the Worker under test. Test-only secrets come from test/fixtures/server-secrets.json, never from
// wrangler.toml, so a deployment never sees them.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: workerTestConfig(fileURLToPath(new URL(".", import.meta.url))) },
      miniflare: {
        bindings: {
          ISSUER: "https://issuer.test",
          SAMPLE_JWT_ROUTE: "on",
          ...testSecrets,
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // test/node/ is the Node-side suite (vitest.node.config.ts): loaded inside workerd, those files
    // crash the runner (workerd segfaults on them) and are reported as unhandled errors.
    exclude: ["test/node/**", "**/node_modules/**"],
    // .ci/run sets VITEST_JSON_REPORT to get a machine-readable summary beside the usual output.
    reporters: process.env.VITEST_JSON_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_REPORT ? { json: process.env.VITEST_JSON_REPORT } : undefined,
    testTimeout: 20_000,
    // The Worker's structured log lines (request_failed, audit, …) and its local-dev notice are expected in tests: keep
    // them out of the output so real warnings stand out.
    onConsoleLog: (log) => (/^\{"(event|audit)"|^local dev: /.test(log) ? false : undefined),
  },
});
