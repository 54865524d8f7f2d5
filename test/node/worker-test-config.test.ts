/**
 * The workerd suite never reads the developer's .dev.vars into the Worker under test (README
 * "Testing"): after `npm start` it holds the local admin token, and `ets keys --local` writes
 * LOCAL_DEV_SIGNING_KEYS there. Checked with the call the vitest pool makes
 * (`unstable_getMiniflareWorkerOptions`), on a checkout that has a .dev.vars.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { afterAll, expect, it } from "vitest";
import { workerTestConfig } from "./support/worker-test-config.js";

const checkout = mkdtempSync(join(tmpdir(), "ets-test-config-"));
copyFileSync("wrangler.toml", join(checkout, "wrangler.toml"));
writeFileSync(join(checkout, ".dev.vars"), "ADMIN_TOKEN=the-developers-own-local-admin-token-0123\nLOCAL_DEV_SIGNING_KEYS={}\n");
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

/** The bindings the pool would give the Worker (wrangler's "Using secrets defined in …" notice kept quiet). */
function bindingsOf(configPath: string) {
  const level = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "warn";
  try {
    return unstable_getMiniflareWorkerOptions(configPath).workerOptions.bindings ?? {};
  } finally {
    if (level === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = level;
  }
}

it("the suite's configuration has wrangler.toml's vars and nothing from .dev.vars", () => {
  const plain = bindingsOf(join(checkout, "wrangler.toml"));
  // What the pool would bind if it were given wrangler.toml itself: the check can fail.
  expect(Object.keys(plain)).toEqual(expect.arrayContaining(["ADMIN_TOKEN", "LOCAL_DEV_SIGNING_KEYS"]));

  const forTests = bindingsOf(workerTestConfig(checkout));
  expect(Object.keys(forTests)).not.toContain("ADMIN_TOKEN");
  expect(Object.keys(forTests)).not.toContain("LOCAL_DEV_SIGNING_KEYS");
  const { ADMIN_TOKEN: _a, LOCAL_DEV_SIGNING_KEYS: _l, ...fromToml } = plain;
  expect(forTests).toEqual(fromToml);
});

it("vitest.config.ts gives the pool that configuration", () => {
  expect(readFileSync("vitest.config.ts", "utf8")).toMatch(/configPath: workerTestConfig\(/);
});
