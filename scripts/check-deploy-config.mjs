#!/usr/bin/env node
// @ts-check
// Checks that every deployment described in wrangler.toml is complete, because wrangler only warns
// about what it does not inherit: an [env.<name>] without its own kv_namespaces, durable_objects or
// vars deploys a Worker with no KV, no Durable Objects and no settings. For the top level (as a
// plain `wrangler deploy --dry-run`, no --env) and every [env.*] it runs `wrangler deploy
// --dry-run` (the bundle must build, with no warning at all) and compares the bindings with the
// top level's. The Worker name each dry run would deploy must differ from every other's, so a
// deploy without --env can never replace a deployment. For an environment with a custom domain,
// ISSUER must be exactly that domain's https origin (README "Deploying").
//
//   node scripts/check-deploy-config.mjs [wrangler.toml]     exit 1 and one line per problem
//
// test/node/deploy-config.test.ts runs it in `npm test`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
 * @returns {Promise<{ environments: string[], workerNames: Record<string, string | undefined>, problems: string[] }>}
 *   `workerNames`: the Worker each dry run would deploy, by environment ("" = no --env)
 */
export async function checkDeployConfig(configPath) {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  const environments = Object.keys(rawConfig.env ?? {});
  const problems = [];
  for (const name of environments) problems.push(...compareBindings(rawConfig, rawConfig.env[name], name));
  /** @type {Record<string, string | undefined>} */
  const workerNames = {};
  // The dry runs are independent: run at once, they take the time of the slowest.
  const runs = await Promise.all(["", ...environments].map((name) => dryRun(configPath, name)));
  ["", ...environments].forEach((name, i) => {
    workerNames[name] = runs[i].workerName;
    problems.push(...runs[i].problems);
  });
  const top = workerNames[""];
  for (const [name, worker] of Object.entries(workerNames)) {
    if (worker === undefined && !problems.some((p) => p.includes("failed"))) problems.push(`wrangler deploy --dry-run for ${name === "" ? "the top level" : `[env.${name}]`} named no Worker (WRANGLER_OUTPUT_FILE_PATH)`);
  }
  for (const name of environments) {
    if (top !== undefined && workerNames[name] === top) {
      problems.push(`[env.${name}] deploys the Worker "${top}", the same as a deploy without --env: give the top level a name of its own, so a plain \`wrangler deploy\` cannot replace this deployment`);
    }
  }
  return { environments, workerNames, problems };
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

/** Wrangler's advice on a deploy without --env: the very case the top level's own name makes harmless. */
const NO_TARGET_ENVIRONMENT = /Multiple environments are defined in the Wrangler configuration file, but no target environment was specified/;

/**
 * `wrangler deploy --dry-run` for one environment ("" = the top level, run with no --env at all, as
 * a plain deploy is): must succeed with no warning. Returns the Worker name it would deploy
 * (from wrangler's output file) and the problems.
 * @param {string} configPath
 * @param {string} name
 * @returns {Promise<{ workerName: string | undefined, problems: string[] }>}
 */
async function dryRun(configPath, name) {
  const outdir = mkdtempSync(join(tmpdir(), "ets-dry-run-"));
  const outputFile = join(outdir, "wrangler-output.json");
  try {
    const result = await new Promise((resolveRun) => {
      const child = execFile(
        process.execPath,
        [wranglerBin, "deploy", "--dry-run", "--config", configPath, "--outdir", join(outdir, "dist"), ...(name === "" ? [] : [`--env=${name}`])],
        {
          cwd: dirname(configPath),
          encoding: "utf8",
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_OUTPUT_FILE_PATH: outputFile },
        },
        (error, stdout, stderr) => resolveRun({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
    const output = `${result.stdout}${result.stderr}`;
    const label = name === "" ? "the top level (no --env)" : `[env.${name}]`;
    if (result.status !== 0) return { workerName: undefined, problems: [`wrangler deploy --dry-run for ${label} failed:\n${output}`] };
    const warnings = output.split("\n").filter((line) => /WARNING|not inherited/.test(line) && !(name === "" && NO_TARGET_ENVIRONMENT.test(line)));
    return {
      workerName: deployedWorkerName(outputFile),
      problems: warnings.map((line) => `wrangler deploy --dry-run for ${label} warned: ${line.replace(/\x1b\[[0-9;]*m/g, "").trim()}`),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The `worker_name` of the `deploy` entry wrangler writes to WRANGLER_OUTPUT_FILE_PATH (ND-JSON).
 * @param {string} outputFile
 * @returns {string | undefined}
 */
function deployedWorkerName(outputFile) {
  let text = "";
  try {
    text = readFileSync(outputFile, "utf8");
  } catch {
    return undefined;
  }
  const entries = text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  return entries.find((entry) => entry.type === "deploy")?.worker_name;
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
