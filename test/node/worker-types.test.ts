/**
 * `npm run types` regenerates the tracked src/worker-configuration.d.ts from wrangler.toml alone
 * (README "Configuration"): the names in a developer's .dev.vars (ADMIN_TOKEN after `npm start`,
 * LOCAL_DEV_SIGNING_KEYS) never become part of the Worker's Env type, and the tracked file is what
 * the command writes today.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { scratchRepo } from "./support/scratch-repo.js";
import { QUIET_WRANGLER_ENV } from "./support/server-process.js";

const repo = scratchRepo();
afterAll(() => repo.remove());

it("npm run types with a .dev.vars present writes exactly the tracked file", () => {
  writeFileSync(join(repo.dir, ".dev.vars"), "ADMIN_TOKEN=a-developers-local-admin-token-0123456789\nLOCAL_DEV_SIGNING_KEYS={}\n");
  execFileSync("npm", ["run", "-s", "types"], { cwd: repo.dir, stdio: "ignore", env: { ...process.env, ...QUIET_WRANGLER_ENV } });
  const written = readFileSync(join(repo.dir, "src/worker-configuration.d.ts"), "utf8");
  expect(written).not.toMatch(/ADMIN_TOKEN|LOCAL_DEV_SIGNING_KEYS/);
  expect(written, "src/worker-configuration.d.ts is stale: run `npm run types` and commit it").toBe(readFileSync("src/worker-configuration.d.ts", "utf8"));
});
