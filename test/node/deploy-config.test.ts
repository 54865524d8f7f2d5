/**
 * Every deployment in wrangler.toml is complete (README "Deploying"): `wrangler deploy --dry-run`
 * for the top level and each [env.*] passes without a warning, and each environment repeats every
 * binding and var, since wrangler does not inherit them (scripts/check-deploy-config.mjs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkDeployConfig } from "../../scripts/check-deploy-config.mjs";

const repoToml = resolve("wrangler.toml");
const scratch = mkdtempSync(join(tmpdir(), "ets-deploy-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

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
    const { environments, problems } = await checkDeployConfig(repoToml);
    expect(environments).toEqual(expect.arrayContaining(["production", "staging"]));
    expect(problems).toEqual([]);
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
