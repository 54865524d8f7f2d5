/**
 * Every deployment in wrangler.toml is complete (README "Deploying"): `wrangler deploy --dry-run`
 * for the top level and each [env.*] passes without a warning, and each environment repeats every
 * binding and var, since wrangler does not inherit them (scripts/check-deploy-config.mjs).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkDeployConfig } from "../../scripts/check-deploy-config.mjs";

const repoToml = resolve("wrangler.toml");
const scratch = mkdtempSync(join(tmpdir(), "ets-deploy-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Three dry runs (the top level and two environments) take seconds: the shipped file is checked once.
let shipped: ReturnType<typeof checkDeployConfig> | undefined;
const checkShipped = () => (shipped ??= checkDeployConfig(repoToml));

/** wrangler.toml with `edit` applied, in a scratch directory (main made absolute). */
function variant(name: string, edit: (toml: string) => string): string {
  const toml = readFileSync(repoToml, "utf8").replace(/^main = "src\/index.ts"$/m, `main = "${resolve("src/index.ts")}"`);
  const edited = edit(toml);
  expect(edited).not.toBe(toml);
  const path = join(scratch, `${name}.toml`);
  writeFileSync(path, edited);
  return path;
}

describe("deploy configuration (wrangler.toml)", () => {
  it("defines production and staging, and every one dry-runs cleanly with all bindings", async () => {
    const { environments, problems } = await checkShipped();
    expect(environments).toEqual(expect.arrayContaining(["production", "staging"]));
    expect(problems).toEqual([]);
  });

  it("a deploy without --env is its own Worker, never production's or staging's (issue 19)", async () => {
    const { workerNames } = await checkShipped();
    // What `npx wrangler deploy --dry-run` (no --env) would deploy, and what each environment would.
    expect(workerNames).toEqual({ "": "edge-token-service-local", production: "edge-token-service", staging: "edge-token-service-staging" });
  });

  it("npm run deploy refuses to run without a named environment", () => {
    for (const args of [["--dry-run"], ["--env", "nowhere"]]) {
      const result = spawnSync(process.execPath, ["scripts/deploy.mjs", ...args], { encoding: "utf8" });
      expect({ args, code: result.status, stderr: result.stderr }).toEqual({
        args,
        code: 2,
        stderr: "npm run deploy: name the environment to deploy: npm run deploy -- --env production (wrangler.toml defines production, staging; the top level is local dev and is never deployed)\n",
      });
    }
  });

  it("fails when the top level has an environment's Worker name", async () => {
    const path = variant("same-name", (t) => t.replace(/^name = "edge-token-service-local"$/m, 'name = "edge-token-service"'));
    const { problems } = await checkDeployConfig(path);
    expect(problems).toEqual([
      '[env.production] deploys the Worker "edge-token-service", the same as a deploy without --env: give the top level a name of its own, so a plain `wrangler deploy` cannot replace this deployment',
    ]);
  });

  it("fails when an environment lacks a Durable Object binding", async () => {
    const path = variant("no-do", (t) => t.replace(/\[\[env\.staging\.durable_objects\.bindings\]\]\nname = "REVOCATION_LIST"\nclass_name = "RevocationList"\n/, ""));
    const { problems } = await checkDeployConfig(path);
    expect(problems.join("\n")).toContain("[env.staging] is missing the durable_objects.bindings binding REVOCATION_LIST");
    // wrangler's own warning is caught too.
    expect(problems.join("\n")).toMatch(/dry-run for \[env.staging\] warned/);
  });

  it("fails when an environment lacks its KV namespace, a var, or has an ISSUER that is not its domain", async () => {
    const path = variant("no-kv", (t) =>
      t
        .replace(/\[\[env\.production\.kv_namespaces\]\]\nbinding = "CLIENTS"\nid = "[0-9a-f]+".*\n/, "")
        .replace(/(\[env\.staging\.vars\]\n)ISSUER = .*\n/, '$1ISSUER = "https://auth.example.com"\n')
        .replace(/(\[env\.staging\.vars\][^[]*)DPOP_NONCE = "off"\n/, "$1"),
    );
    const text = (await checkDeployConfig(path)).problems.join("\n");
    expect(text).toContain("[env.production] is missing the kv_namespaces binding CLIENTS");
    expect(text).toContain("[env.staging.vars] is missing DPOP_NONCE");
    expect(text).toContain('[env.staging] serves the custom domain auth.staging.example.com, so its ISSUER must be "https://auth.staging.example.com"');
  });
});
