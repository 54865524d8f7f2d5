#!/usr/bin/env node
// @ts-check
// Checks that every deployment described in wrangler.toml is complete, because wrangler only warns
// about what it does not inherit: an [env.<name>] without its own kv_namespaces, durable_objects or
// vars deploys a Worker with no KV, no Durable Objects and no settings. For the top level and every
// [env.*] it runs `wrangler deploy --dry-run` (the bundle must build, with no warning at all) and
// compares the bindings with the top level's. For an environment with a custom domain, ISSUER must
// be exactly that domain's https origin (README "Deploying").
//
//   node scripts/check-deploy-config.mjs [wrangler.toml]     exit 1 and one line per problem
//
// test/node/deploy-config.test.ts runs it in `npm test`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

/** Binding lists wrangler does not inherit into environments, and the field naming each binding. */
const BINDING_LISTS = [
  ["kv_namespaces", "binding"],
  ["durable_objects.bindings", "name"],
  ["r2_buckets", "binding"],
  ["d1_databases", "binding"],
  ["services", "binding"],
  ["queues.producers", "binding"],
  ["analytics_engine_datasets", "binding"],
];

/**
 * @param {string} configPath
 * @returns {Promise<{ environments: string[], problems: string[] }>}
 */
export async function checkDeployConfig(configPath) {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  const environments = Object.keys(rawConfig.env ?? {});
  const problems = [];
  for (const name of environments) problems.push(...compareBindings(rawConfig, rawConfig.env[name], name));
  for (const name of ["", ...environments]) problems.push(...dryRun(configPath, name));
  return { environments, problems };
}

/**
 * @param {any} top
 * @param {any} env
 * @param {string} name
 * @returns {string[]}
 */
function compareBindings(top, env, name) {
  const problems = [];
  for (const [path, field] of BINDING_LISTS) {
    const wanted = new Map((get(top, path) ?? []).map((/** @type {any} */ b) => [b[field], b]));
    const have = new Map((get(env, path) ?? []).map((/** @type {any} */ b) => [b[field], b]));
    for (const [binding, spec] of wanted) {
      if (!have.has(binding)) problems.push(`[env.${name}] is missing the ${path} binding ${binding} (bindings are not inherited)`);
      else if (spec.class_name !== undefined && have.get(binding).class_name !== spec.class_name) {
        problems.push(`[env.${name}] binds ${binding} to class ${have.get(binding).class_name}, the top level to ${spec.class_name}`);
      }
    }
  }
  for (const variable of Object.keys(top.vars ?? {})) {
    if (!(variable in (env.vars ?? {}))) problems.push(`[env.${name}.vars] is missing ${variable} (vars are not inherited)`);
  }
  for (const route of env.routes ?? []) {
    if (typeof route === "object" && route.custom_domain === true) {
      const origin = `https://${route.pattern}`;
      if (env.vars?.ISSUER !== origin) problems.push(`[env.${name}] serves the custom domain ${route.pattern}, so its ISSUER must be "${origin}" (it is ${JSON.stringify(env.vars?.ISSUER)})`);
    }
  }
  return problems;
}

/**
 * `wrangler deploy --dry-run` for one environment ("" = the top level): must succeed with no warning.
 * @param {string} configPath
 * @param {string} name
 * @returns {string[]}
 */
function dryRun(configPath, name) {
  const outdir = mkdtempSync(join(tmpdir(), "ets-dry-run-"));
  try {
    const result = spawnSync(process.execPath, [wranglerBin, "deploy", "--dry-run", "--config", configPath, "--outdir", outdir, `--env=${name}`], {
      cwd: dirname(configPath),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    const output = `${result.stdout}${result.stderr}`;
    const label = name === "" ? "the top level" : `[env.${name}]`;
    if (result.status !== 0) return [`wrangler deploy --dry-run for ${label} failed:\n${output}`];
    const warnings = output.split("\n").filter((line) => /WARNING|not inherited/.test(line));
    return warnings.map((line) => `wrangler deploy --dry-run for ${label} warned: ${line.replace(/\x1b\[[0-9;]*m/g, "").trim()}`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** @param {any} object @param {string} path */
function get(object, path) {
  return path.split(".").reduce((o, key) => o?.[key], object);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const configPath = resolve(process.argv[2] ?? "wrangler.toml");
  const { environments, problems } = await checkDeployConfig(configPath);
  for (const problem of problems) console.error(problem);
  if (problems.length === 0) console.log(`deploy config ok: top level${environments.map((e) => `, [env.${e}]`).join("")}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
