#!/usr/bin/env node
/**
 * `npm run bench:profile`: a CPU profile of this service under the benchmark's load.
 *
 * Starts the bundle under Miniflare exactly as `npm run bench` does, plus workerd's inspector
 * (Miniflare `inspectorPort`), warms it up, then records a V8 CPU profile of the Worker's isolate
 * (Profiler domain over the inspector WebSocket) while the load generator runs. With --perf it
 * also runs `perf record -g` on the workerd process for the same window, which sees native work
 * too (BoringSSL, SQLite, the KJ event loop, V8's compiler and GC threads).
 *
 * Writes bench/.out/profile-<time>.cpuprofile (open it in Chrome DevTools › Performance, or
 * speedscope) and prints a summary: where the isolate's time goes by source file/package (mapped
 * through the bundle's source map), the top functions by self time, and garbage-collection pauses.
 *
 * Options: --duration=S (8) --interval=µs (250, V8 sampling interval) --perf --connections=N (32) --nice=N
 * The inspector costs CPU of its own: compare shares, not absolute figures, with `npm run bench`.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "undici";
import { benchSecrets, buildBundle, loadOurs, LOAD_CPU, log, ROOT, startOurs } from "./lib/harness.mjs";
import { canPin, freePort, pin } from "./lib/proc.mjs";
import { readSourceMap, shortSource } from "./lib/sourcemap.mjs";

/** Where workerd's CPU goes by kind of native code, from `perf report` (all threads of the process). */
const PERF_CATEGORIES = [
  ["kernel (syscalls, scheduling, page faults)", /\[kernel/],
  ["BoringSSL: P-256 and bignum arithmetic", /ecp_nistz|beeu_|bn_|BN_|\bec_|EC_|p256|ecdsa|ECDSA/],
  ["BoringSSL: hashes, AES (RNG)", /sha256|sha512|SHA256|sha_block|hmac|aes_|CRYPTO_|RAND_/i],
  ["SQLite", /sqlite3|Sqlite|pcache|\bwal[A-Z]|btree|vdbe/],
  ["V8 garbage collector", /Heap::|Scavenge|MarkCompact|Sweeper|Marking|Evacuat|GlobalHandles|ArrayBufferSweeper|MinorMS|Concurrent/],
  ["V8 compilers and parser", /compiler::|Turbofan|Maglev|baseline::|interpreter::|Bytecode|Parser|Scanner/],
  ["V8 CPU profiler", /ProfileNode|CodeEntry|ProfilerListener|CpuProfile|InstructionStreamMap/],
  ["JavaScript (JIT code, builtins, V8 runtime)", /v8::|Builtins_|\[JIT\]|Runtime_/],
  ["KJ event loop, promises, capnp", /kj::|capnp::/],
  ["workerd API and JSG bindings", /workerd::|jsg::/],
  ["tcmalloc", /tcmalloc/i],
  ["libc", /libc\.so|memcpy|memmove|memset|strlen/],
];

const opts = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? true]));
const duration = Number(opts.duration ?? 8);
const interval = Number(opts.interval ?? 250);
const connections = Number(opts.connections ?? 32);
if (opts.nice) process.env.BENCH_NICE = String(opts.nice);
const pinning = canPin() && cpus().length >= 2;
if (pinning) pin(process.pid, LOAD_CPU);

const outDir = mkdtempSync(join(tmpdir(), "ets-bench-profile-"));
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
mkdirSync(join(ROOT, "bench", ".out"), { recursive: true });
let server;
try {
  log("building the bundle …");
  const bundle = buildBundle(outDir);
  const secrets = await benchSecrets();
  const inspectorPort = await freePort();
  server = await startOurs({ bundle: bundle.path, secrets, pinning, inspectorPort });
  const load = (label, warmupSeconds, durationSeconds) =>
    loadOurs(server, {
      label,
      secrets,
      connections,
      warmupSeconds,
      durationSeconds,
      pinning,
    });

  await load("warm-up (not profiled)", 2, 2);

  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.id.startsWith("core:user:"));
  if (!target) throw new Error(`no Worker target on the inspector: ${targets.map((t) => t.id).join(", ")}`);
  const cdp = await connect(target.webSocketDebuggerUrl);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval });
  await cdp.send("Profiler.start");

  const run = await load("profiled (V8 sampling profiler)", 0.5, duration);
  const { profile } = await cdp.send("Profiler.stop");
  await cdp.send("Profiler.disable");
  cdp.close();

  // perf in a window of its own: the V8 profiler's SIGPROF sampling would show up in it.
  let perfRun;
  const perfData = join(ROOT, "bench", ".out", `perf-${stamp}.data`);
  if (opts.perf) {
    const perf = spawn("perf", ["record", "-F", "997", "-g", "-o", perfData, "-p", server.workerdPids.join(","), "--", "sleep", String(duration + 1)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    perfRun = await load("profiled (perf record)", 0.5, duration);
    await new Promise((r) => perf.once("exit", r));
  }

  const profilePath = join(ROOT, "bench", ".out", `profile-${stamp}.cpuprofile`);
  writeFileSync(profilePath, JSON.stringify(profile));
  const map = readSourceMap(JSON.parse(readFileSync(join(outDir, "index.js.map"), "utf8")));
  const summary = [
    `# CPU profile of this service under load (${new Date().toISOString()})`,
    "",
    `${connections} connections, ${duration} s; ${Math.round(run.tokensPerSecond)} tokens/s, server CPU ${Math.round(run.serverMicrosPerToken)} µs/token with the inspector attached, p50 ${run.latencyMs.p50.toFixed(1)} ms, p99 ${run.latencyMs.p99.toFixed(1)} ms; V8 sampling every ${interval} µs.`,
    "",
    ...summarize(profile, map, run.ok),
  ];
  if (perfRun && existsSync(perfData)) summary.push("", ...perfSummary(perfData, perfRun));
  const summaryPath = join(ROOT, "bench", ".out", `profile-${stamp}.md`);
  writeFileSync(summaryPath, `${summary.join("\n")}\n`);
  console.log(summary.join("\n"));
  log(`profile: ${profilePath}\n[bench] summary: ${summaryPath}${perfRun ? `\n[bench] perf data: ${perfData}` : ""}`);
} finally {
  await server?.stop();
  rmSync(outDir, { recursive: true, force: true });
}

/** A tiny Chrome DevTools Protocol client over undici's WebSocket. */
function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const pending = new Map();
    let nextId = 1;
    ws.onerror = (e) => reject(e.error ?? new Error("inspector connection failed"));
    ws.onmessage = (event) => {
      const msg = JSON.parse(String(event.data));
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.message}`));
      else p.resolve(msg.result);
    };
    ws.onopen = () =>
      resolve({
        send(method, params = {}) {
          const id = nextId++;
          ws.send(JSON.stringify({ id, method, params }));
          return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
        },
        close: () => ws.close(),
      });
  });
}

/** Self time by category and function, and GC pauses, from a V8 .cpuprofile. */
function summarize(profile, map, tokens) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const gcRuns = [];
  let gcRun = 0;
  let total = 0;
  // A sample stands for the time until the next one. When sampling stalls (the profiler thread
  // was not scheduled, or the isolate could not be interrupted), one sample would otherwise be
  // credited with the whole gap: a 1.4 s gap once made an 8-line function look like 15% of the
  // time. Gaps beyond 10 intervals are left out and reported.
  const maxDelta = 10 * interval;
  let gaps = 0;
  profile.samples.forEach((id, i) => {
    const raw = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const dt = Math.min(raw, maxDelta);
    gaps += raw - dt;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
    if (nodes.get(id).callFrame.functionName === "(garbage collector)") gcRun += dt;
    else if (gcRun > 0) {
      gcRuns.push(gcRun);
      gcRun = 0;
    }
  });

  const where = (frame) => {
    if (frame.url === "" || frame.lineNumber < 0) return frame.functionName || "(anonymous)";
    const pos = frame.url.endsWith("index.js") ? map.lookup(frame.lineNumber, frame.columnNumber) : undefined;
    return pos ? `${shortSource(pos.source)}:${pos.line}` : `${frame.url}:${frame.lineNumber + 1}`;
  };
  const category = (frame) => {
    if (frame.url === "" || frame.lineNumber < 0) return frame.functionName.startsWith("(") ? frame.functionName : "(native / runtime)";
    const pos = frame.url.endsWith("index.js") ? map.lookup(frame.lineNumber, frame.columnNumber) : undefined;
    return pos ? shortSource(pos.source) : frame.url;
  };

  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, us] of self) {
    const { callFrame } = nodes.get(id);
    const cat = category(callFrame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const key = `${callFrame.functionName || "(anonymous)"} — ${where(callFrame)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const busy = total - (byCategory.get("(idle)") ?? 0);
  const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
  const perToken = (us) => (tokens ? `${(us / tokens).toFixed(1)}` : "—");
  const out = [
    `Isolate thread: ${(total / 1e6).toFixed(2)} s sampled, ${pct(busy)} busy (not "(idle)"); sampling gaps over ${maxDelta / 1000} ms left out: ${(gaps / 1e3).toFixed(0)} ms. µs/token = self time ÷ ${tokens} tokens.`,
    "",
    "| where (self time) | share | µs/token |",
    "|---|---:|---:|",
  ];
  for (const [cat, us] of [...byCategory].sort((a, b) => b[1] - a[1]).slice(0, 25)) out.push(`| ${cat} | ${pct(us)} | ${perToken(us)} |`);
  out.push("", "| top functions (self time) | share | µs/token |", "|---|---:|---:|");
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) out.push(`| ${fn.replace(/\|/g, "\\|")} | ${pct(us)} | ${perToken(us)} |`);
  gcRuns.sort((a, b) => a - b);
  const q = (p) => (gcRuns.length ? (gcRuns[Math.min(gcRuns.length - 1, Math.floor(p * gcRuns.length))] / 1000).toFixed(2) : "—");
  out.push(
    "",
    `Garbage collection: ${gcRuns.length} runs of consecutive GC samples, ${pct(gcRuns.reduce((a, b) => a + b, 0))} of the time; run length p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (a run is a lower bound of one pause; sampling every ${interval} µs).`,
  );
  return out;
}

function perfSummary(perfData, run) {
  try {
    const text = execFileSync("perf", ["report", "-i", perfData, "--stdio", "--no-children", "--sort", "dso,symbol", "-g", "none"], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const byCategory = new Map();
    const top = [];
    for (const line of text.split("\n")) {
      const m = /^\s+([\d.]+)%\s+(.*?)\s*(?:-\s+-\s*)?$/.exec(line);
      if (!m) continue;
      const share = Number(m[1]);
      const what = m[2].replace(/\s+/g, " ");
      const cat = PERF_CATEGORIES.find(([, re]) => re.test(what))?.[0] ?? "other";
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + share);
      if (top.length < 25) top.push(`| ${what.slice(0, 110).replace(/\|/g, "\\|")} | ${share.toFixed(2)}% |`);
    }
    const perToken = (share) => ((share / 100) * run.serverMicrosPerToken).toFixed(0);
    return [
      "## perf record of the workerd process (all threads, V8 profiler off)",
      "",
      `${Math.round(run.tokensPerSecond)} tokens/s, server CPU ${Math.round(run.serverMicrosPerToken)} µs/token in this window (inspector attached, idle).`,
      "",
      "| kind of code | share | ≈ µs/token |",
      "|---|---:|---:|",
      ...[...byCategory].sort((a, b) => b[1] - a[1]).map(([cat, share]) => `| ${cat} | ${share.toFixed(1)}% | ${perToken(share)} |`),
      "",
      "| top symbols | share |",
      "|---|---:|",
      ...top,
    ];
  } catch (err) {
    return [`perf report failed: ${err.message}`];
  }
}
