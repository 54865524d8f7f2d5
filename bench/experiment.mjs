#!/usr/bin/env node
/**
 * Paired A/B runs of this service: each setup is built and measured exactly like the `this
 * service` row of `npm run bench` (Miniflare, direct socket, /dev/shm storage, server on core 0,
 * load on core 1), in interleaved rounds so a noisy neighbour hurts every setup alike.
 *
 *   node bench/experiment.mjs @HEAD~1 tree --rounds=3        # a commit's code against the working tree
 *   node bench/experiment.mjs shards=1 shards=4 shards=16 shards=64 --rounds=3
 *   node bench/experiment.mjs tree floor no-do --rounds=3    # against the design floor
 *
 * A setup is `+`-joined parts: `tree` (the working tree, the default) or `@<git ref>` (that
 * commit's src/), then any of
 *   no-do         bench/variants/no-do.ts: the replay guard answers without a Durable Object call
 *   floor         bench/variants/floor.ts: workerd HTTP + the JOSE pair + one Durable Object call
 *   floor-jose    the floor without the Durable Object call; floor-http: workerd's HTTP alone
 *   shards=N      the bench client registered with replay_guard_shards N
 *   quota         the bench client registered with a token_quota it never reaches (limit 10^9 per
 *                 30 days, enforce; `quota=observe` for observe mode): what the exact counter
 *                 costs a quota'd client (SPEC §11)
 *   grant=jwt-bearer      the load is the JWT bearer grant (SPEC §13): a fresh workload token per
 *                 request from a trusted issuer, no client authentication
 *   grant=token-exchange  the load is token exchange (RFC 8693): the bench client authenticates
 *                 as usual and exchanges one long-lived caller token per request
 *   e.g. node bench/experiment.mjs tree tree+grant=jwt-bearer tree+grant=token-exchange --rounds=3
 *   keys=auto     SIGNING_KEY_ROTATION=auto without SIGNING_KEYS: tokens signed by the key ring
 *   node bench/experiment.mjs tree tree+keys=auto tree+quota --rounds=3   # what a feature costs against the tree
 * Prints a Markdown table with per-round ratios to the first setup; raw results go to bench/.out/.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { benchSecrets, buildBundle, loadOurs, LOAD_CPU, log, ROOT, startOurs } from "./lib/harness.mjs";
import { canPin, pin } from "./lib/proc.mjs";

const argv = process.argv.slice(2);
const opts = Object.fromEntries(argv.filter((a) => a.startsWith("--")).map((a) => { const [k, v] = a.slice(2).split("="); return [k, v ?? true]; }));
const names = argv.filter((a) => !a.startsWith("--"));
if (names.length === 0) {
  console.log("usage: node bench/experiment.mjs SETUP … [--rounds=N] [--duration=S] [--warmup=S] [--connections=N]  (see the header of this file)");
  process.exit(0);
}
const rounds = Number(opts.rounds ?? 3);
const duration = Number(opts.duration ?? 8);
const warmup = Number(opts.warmup ?? 3);
const connections = Number(opts.connections ?? 32);
const pinning = canPin() && cpus().length >= 2;
if (pinning) pin(process.pid, LOAD_CPU);

/** What a setup name asks for: source, entry module, vars, client registration fields. */
function parseSetup(name, secrets) {
  const setup = { ref: undefined, entry: undefined, vars: {}, clientFields: {} };
  for (const part of name.split("+")) {
    const [flag, value] = part.split("=");
    if (part === "tree") continue;
    else if (part.startsWith("@")) setup.ref = part.slice(1);
    else if (flag === "no-do") setup.entry = "bench/variants/no-do.ts";
    else if (flag.startsWith("floor")) {
      setup.entry = "bench/variants/floor.ts";
      setup.vars.BENCH_FLOOR = { floor: "jose+do", "floor-jose": "jose", "floor-http": "http" }[flag];
      setup.vars.BENCH_CLIENT_JWK = JSON.stringify(secrets.clientPublicJwk);
    } else if (flag === "shards") setup.clientFields.replay_guard_shards = Number(value);
    else if (flag === "quota") setup.clientFields.token_quota = { limit: 1_000_000_000, window: 2_592_000, mode: value === "observe" ? "observe" : "enforce" };
    else if (flag === "keys" && value === "auto") Object.assign(setup.vars, { SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined });
    else if (flag === "grant") setup.grant = value;
    else throw new Error(`unknown setup part "${part}" (see the header of bench/experiment.mjs)`);
  }
  return setup;
}

/** Build one setup in its own directory (a commit's src/ with today's bench/variants/, or the working tree). */
function build(name, setup, work) {
  const dir = join(work, name.replace(/[^\w+=-]/g, "_"));
  const entries = ["src", "wrangler.toml", "package.json", "tsconfig.json"];
  mkdirSync(dir, { recursive: true });
  if (setup.ref) execFileSync("sh", ["-c", `git -C "$1" archive "$2" ${entries.join(" ")} | tar -x -C "$3"`, "sh", ROOT, setup.ref, dir]);
  else for (const entry of entries) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  cpSync(join(ROOT, "bench", "variants"), join(dir, "bench", "variants"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "out"));
  log(`building ${name} …`);
  return { bundle: buildBundle(join(dir, "out"), dir, setup.entry), dir };
}

const work = mkdtempSync(join(tmpdir(), "ets-bench-exp-"));
try {
  const secrets = await benchSecrets();
  const setups = Object.fromEntries(names.map((name) => [name, parseSetup(name, secrets)]));
  const builds = Object.fromEntries(names.map((name) => [name, build(name, setups[name], work)]));
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const { vars, clientFields, grant } = setups[name];
      const { bundle, dir } = builds[name];
      const server = await startOurs({ bundle: bundle.path, secrets, pinning, extraBindings: vars, clientFields, grant, wranglerToml: join(dir, "wrangler.toml") });
      try {
        const run = await loadOurs(server, { label: `${name} (round ${round})`, secrets, connections, warmupSeconds: warmup, durationSeconds: duration, pinning });
        runs.push({ name, round, run });
        if (run.errors > 0) log(`${name}: ${run.errors} errors, e.g. ${run.errorSamples[0]}\n  server log: ${server.serverLog().slice(-1200)}`);
      } finally {
        await server.stop();
      }
    }
  }
  console.log(renderTable(runs));
  mkdirSync(join(ROOT, "bench", ".out"), { recursive: true });
  const file = join(ROOT, "bench", ".out", `experiment-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ names, rounds, duration, warmup, connections, runs }, null, 2));
  log(`raw results: ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function renderTable(runs) {
  const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "—");
  const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const first = names[0];
  const ofRound = (name, round) => runs.find((r) => r.name === name && r.round === round)?.run;
  const lines = [
    `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${connections} connections, ${warmup} s warm-up + ${duration} s, ${rounds} interleaved rounds; servers on core 0, load on core 1`,
    "",
    "| setup | round | tokens/s | p50 ms | p99 ms | max ms | CPU µs/token | core share | errors | single use |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const { name, round, run } of runs) {
    const l = run.latencyMs;
    const r = run.replay;
    // A replayed client assertion is 401 invalid_client; a replayed JWT bearer grant assertion 400 invalid_grant.
    const refused = (x) => x.status === 401 || (x.status === 400 && x.error === "invalid_grant");
    const single = refused(r.recent) && refused(r.old) && r.concurrent.accepted === 1 ? "yes" : "**no**";
    lines.push(`| ${name} | ${round} | ${f(run.tokensPerSecond, 0)} | ${f(l.p50)} | ${f(l.p99)} | ${f(l.max)} | ${f(run.serverMicrosPerToken, 0)} | ${f(run.serverCpuShare * 100, 0)}% | ${run.errors} | ${single} |`);
  }
  lines.push("", `Medians over the rounds, and the median of the per-round ratios to \`${first}\` (same round, back to back):`, "");
  lines.push("| setup | tokens/s | p99 ms | CPU µs/token | CPU ÷ first | p99 ÷ first |", "|---|---:|---:|---:|---:|---:|");
  for (const name of names) {
    const mine = runs.filter((r) => r.name === name).map((r) => r.run);
    const ratio = (pick) => median(mine.map((run, i) => pick(run) / pick(ofRound(first, i + 1))));
    lines.push(
      `| ${name} | ${f(median(mine.map((r) => r.tokensPerSecond)), 0)} | ${f(median(mine.map((r) => r.latencyMs.p99)))} | ${f(median(mine.map((r) => r.serverMicrosPerToken)), 0)} | ${f(ratio((r) => r.serverMicrosPerToken), 2)}× | ${f(ratio((r) => r.latencyMs.p99), 2)}× |`,
    );
  }
  return lines.join("\n");
}
