import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Every test file runs inside workerd with the real KV namespace and Durable Objects declared in
// wrangler.toml (storage is isolated per test file). Test-only secrets are set here, not in
// wrangler.toml, so a deployment never sees them.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ISSUER: "https://issuer.test",
          ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
          SAMPLE_JWT_ROUTE: "on",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
