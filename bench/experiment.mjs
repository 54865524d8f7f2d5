#!/usr/bin/env node
/**
 * A/B experiments on this service, for finding what costs CPU and what makes the latency tail:
 * each variant (bench/lib/variants.mjs) is built from a patched temporary copy of the repository
 * (src/ is never modified) and measured exactly like the `this service` row of `npm run bench`
 * (Miniflare, direct socket, /dev/shm storage, server on core 0, load on core 1). Variants are
 * run in interleaved rounds so that a noisy neighbour hurts all of them alike.
 *
 *   node bench/experiment.mjs baseline no-do timed+no-timeout --rounds=2 --duration=8
 *
 * A `+` combines variants. `@<git ref>` builds the code of a commit instead of the working tree
 * (`node bench/experiment.mjs @HEAD baseline` measures uncommitted changes against the last
 * commit; `@HEAD~3+shards-16` patches that commit). Prints a Markdown table; raw results go to
 * bench/.out/.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { benchSecrets, buildBundle, loadOurs, LOAD_CPU, log, ROOT, startOurs } from "./lib/harness.mjs";
import { canPin, pin } from "./lib/proc.mjs";
import { applyVariants, VARIANTS } from "./lib/variants.mjs";

const argv = process.argv.slice(2);
const opts = Object.fromEntries(argv.filter((a) => a.startsWith("--")).map((a) => { const [k, v] = a.slice(2).split("="); return [k, v ?? true]; }));
const names = argv.filter((a) => !a.startsWith("--"));
if (names.length === 0) {
  console.log(`usage: node bench/experiment.mjs VARIANT[+VARIANT] … (@GITREF[+VARIANT] for a commit's code) [--rounds=N] [--duration=S] [--warmup=S] [--connections=N] [--no-keepalive] [--nice=N]\n`);
  for (const [name, v] of Object.entries(VARIANTS)) console.log(`  ${name.padEnd(20)} ${v.about}`);
  process.exit(0);
}
const rounds = Number(opts.rounds ?? 1);
const duration = Number(opts.duration ?? 8);
const warmup = Number(opts.warmup ?? 2);
const connections = Number(opts.connections ?? 32);
if (opts.nice) process.env.BENCH_NICE = opts.nice;
const pinning = canPin() && cpus().length >= 2;
if (pinning) pin(process.pid, LOAD_CPU);

const work = mkdtempSync(join(tmpdir(), "ets-bench-exp-"));
const builds = {};
try {
  for (const name of names) {
    const dir = join(work, name.replace(/[^\w+-]/g, "_"));
    const [first, ...rest] = name.split("+");
    const entries = ["src", "wrangler.toml", "package.json", "tsconfig.json"];
    if (first.startsWith("@")) {
      mkdirSync(dir, { recursive: true });
      execFileSync("sh", ["-c", `git -C "$1" archive "$2" ${entries.join(" ")} | tar -x -C "$3"`, "sh", ROOT, first.slice(1), dir]);
    } else {
      for (const entry of entries) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const vars = applyVariants(dir, first.startsWith("@") ? rest : [first, ...rest], { readFileSync, writeFileSync });
    mkdirSync(join(dir, "out"));
    log(`building ${name} …`);
    builds[name] = { bundle: buildBundle(join(dir, "out"), dir), vars, dir };
  }

  const secrets = await benchSecrets();
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const { bundle, vars, dir } = builds[name];
      const server = await startOurs({ bundle: bundle.path, secrets, pinning, extraBindings: vars, wranglerToml: join(dir, "wrangler.toml") });
      try {
        const run = await loadOurs(server, {
          label: `${name} (round ${round})`,
          secrets,
          connections,
          warmupSeconds: warmup,
          durationSeconds: duration,
          pinning,
          noKeepAlive: Boolean(opts["no-keepalive"]),
        });
        runs.push({ name, round, bundleBytes: bundle.rawBytes, run });
        if (run.errors > 0) log(`${name}: ${run.errors} errors, e.g. ${run.errorSamples[0]}\n  server log: ${server.serverLog().slice(-1200)}`);
      } finally {
        await server.stop();
      }
    }
  }

  const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "—");
  const lines = [
    `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${connections} connections, ${warmup} s warm-up + ${duration} s; servers on core 0, load on core 1`,
    "",
    "| variant | round | tokens/s | p50 | p90 | p99 | max ms | CPU µs/token | core share | errors | tokens per connection min–max |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const { name, round, run } of runs) {
    const l = run.latencyMs;
    lines.push(
      `| ${name} | ${round} | ${f(run.tokensPerSecond, 0)} | ${f(l.p50)} | ${f(l.p90)} | ${f(l.p99)} | ${f(l.max)} | ${f(run.serverMicrosPerToken, 0)} | ${f(run.serverCpuShare * 100, 0)}% | ${run.errors} | ${Math.min(...run.perConnection.map((c) => c.n))}–${Math.max(...run.perConnection.map((c) => c.n))} |`,
    );
  }
  const timed = runs.filter((r) => Object.keys(r.run.serverTiming ?? {}).length > 0);
  if (timed.length) {
    lines.push("", "Server-Timing (ms): p50 / p90 / p99 / max", "", "| variant | round | phase | p50 | p90 | p99 | max | mean |", "|---|---:|---|---:|---:|---:|---:|---:|");
    for (const { name, round, run } of timed) {
      for (const [phase, s] of Object.entries(run.serverTiming)) {
        lines.push(`| ${name} | ${round} | ${phase} | ${f(s.p50, 2)} | ${f(s.p90, 2)} | ${f(s.p99, 2)} | ${f(s.max, 1)} | ${f(s.mean, 2)} |`);
      }
    }
  }
  console.log(lines.join("\n"));
  mkdirSync(join(ROOT, "bench", ".out"), { recursive: true });
  const file = join(ROOT, "bench", ".out", `experiment-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ names, rounds, duration, warmup, connections, runs }, null, 2));
  log(`raw results: ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
