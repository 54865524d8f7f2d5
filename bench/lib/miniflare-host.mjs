/**
 * Runs the built Worker bundle under Miniflare, started from Node, the way the benchmark measures
 * it: Worker options from wrangler.toml (wrangler's unstable_getMiniflareWorkerOptions), the bundle
 * from `wrangler deploy --dry-run`, a direct socket into the Worker (`unsafeDirectSockets`: no
 * Node proxy in the request path), KV and Durable Object storage under a tmpfs directory (no
 * fsync stalls), no `request.cf` fetch, no request logging.
 *
 * Usage: node miniflare-host.mjs '<json config>'
 *   { workerOptions, bundle, persistDir, port, entryPort?, bindings: {…secrets/vars} }
 * Prints one JSON line when ready: { port, hostPid, workerdPids }. Stops on SIGTERM.
 */
import { dirname } from "node:path";
import { Miniflare } from "miniflare";
import { descendants, commOf } from "./proc.mjs";

const config = JSON.parse(process.argv[2]);
// Computed by the caller (harness.mjs shippedWorkerOptions: wrangler.toml's [env.production]) and
// passed in, so this process loads only Miniflare (its start-up is part of the cold start).
const { workerOptions } = config;

// The wrangler.toml options describe the source entry (src/index.ts); run the built bundle instead.
const { modulesRules: _rules, ...options } = workerOptions;
const mf = new Miniflare({
  workers: [
    {
      ...options,
      name: "edge-token-service",
      modules: true,
      scriptPath: config.bundle,
      modulesRoot: dirname(config.bundle),
      bindings: { ...options.bindings, ...config.bindings },
      unsafeDirectSockets: [{ host: "127.0.0.1", port: config.port }],
    },
  ],
  durableObjectsPersist: `${config.persistDir}/do`,
  kvPersist: `${config.persistDir}/kv`,
  cachePersist: false,
  cf: false,
  logRequests: false,
  telemetry: { enabled: false },
  // Miniflare's own entry socket (unused by the bench): on a given port when ports are shared out.
  ...(config.entryPort ? { port: config.entryPort } : {}),
  // stdout carries the audit trail, one line per decision (SPEC §11), which a deployment hands to
  // Workers Logs: read and dropped here, as the runtime would take it. stderr carries failures:
  // passed through, so a broken run is visible.
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.on("data", (d) => process.stderr.write(d));
  },
});

await mf.ready;
const workerdPids = descendants(process.pid).filter((pid) => {
  try {
    return commOf(pid).startsWith("workerd");
  } catch {
    return false;
  }
});
process.stdout.write(`${JSON.stringify({ port: config.port, hostPid: process.pid, workerdPids })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(0);
  }
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
