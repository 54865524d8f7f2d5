#!/usr/bin/env node
/**
 * `npm run bench`: the token-endpoint benchmark of issue 5, in one bounded run (about 2.5 min).
 *
 * 1. Builds the Worker bundle (`wrangler deploy --dry-run --outdir <tmp>`): bundle size.
 * 2. Crypto floor: jose ES256 verify + sign per token, in Node, on core 0.
 * 3. This service: the bundle under Miniflare started from Node (options from wrangler.toml,
 *    direct socket, KV and Durable Objects on /dev/shm, test-style secrets generated here), cold
 *    start, then 32 connections of client_credentials + private_key_jwt from a load generator on
 *    core 1, the server (workerd) pinned to core 0, its CPU from /proc/<pid>/stat.
 * 4. The peers, measured the same way: node-oidc-provider with its in-memory adapter, and with a
 *    Redis adapter against a private redis-server (installed from Debian's packages if missing).
 * 3 and 4 run in interleaved rounds (ours, in-memory peer, Redis peer; again …), each server
 *    started afresh per round, so a noisy neighbour hits every row alike; each row shows its median
 *    round and the ratios are the medians of the per-round ratios.
 * 5. Prints a Markdown table (and writes it to bench/results/latest.md; raw JSON to bench/.out/).
 *
 * Options: --rounds=N (3) --duration=S (8) --warmup=S (3) --connections=N (32) --only=ours|peers
 *   --with-wrangler-dev (adds a reference row for `wrangler dev`) --quick (one round of 3 s, for checking the harness)
 * See bench/README.md.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import {
  benchSecrets,
  buildBundle,
  CLIENT_ID,
  coldStart,
  HOST,
  ISSUER,
  LIB,
  LOAD_CPU,
  log,
  oneBody,
  QUIET_WRANGLER,
  ROOT,
  runLoad,
  SERVER_CPU,
  startOurs,
  STORAGE_ROOT,
  systemInfo,
} from "./lib/harness.mjs";
import { canPin, launchPrefix, raisePriority, descendants, freePort, pin, runNodeJson, spawnNodeReady, stopChild } from "./lib/proc.mjs";
import { ensureRedis, redisVersion, startRedis } from "./lib/redis.mjs";
import { renderReport } from "./lib/report.mjs";

process.chdir(ROOT);

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? true];
  }),
);
const QUICK = Boolean(args.quick);
const ROUNDS = Math.max(1, Number(args.rounds ?? (QUICK ? 1 : 3)));
const DURATION = Number(args.duration ?? (QUICK ? 3 : 8));
const WARMUP = Number(args.warmup ?? (QUICK ? 1 : 3));
const CONNECTIONS = Number(args.connections ?? 32);
const ONLY = args.only;
const RESOURCE = "https://api.bench.test";
const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch {
      // best effort
    }
  }
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => cleanup().then(() => process.exit(130)));

if (args.nice) process.env.BENCH_NICE = String(args.nice);
const startedAt = Date.now();
const pinning = canPin() && cpus().length >= 2;
// The orchestrator itself stays off the server's core (it is idle while measuring anyway).
if (pinning) pin(process.pid, LOAD_CPU);

const results = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  date: new Date().toISOString(),
  system: systemInfo(),
  settings: { nice: process.env.BENCH_NICE, rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, pinning, serverCpu: SERVER_CPU, loadCpu: LOAD_CPU },
  rows: [],
};

try {
  await main();
} finally {
  await cleanup();
}

async function main() {
  log(`load average at start: ${results.system.loadAverage.join(" ")} (${results.system.cpuCount} CPUs)`);
  const outDir = mkdtempSync(join(tmpdir(), "ets-bench-bundle-"));
  cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
  log("building the bundle (wrangler deploy --dry-run) …");
  results.bundle = buildBundle(outDir);
  log(`bundle ${results.bundle.rawBytes} B raw, ${results.bundle.gzipBytes} B gzip`);

  log("crypto floor …");
  results.floor = await runNodeJson(join(LIB, "crypto-floor.mjs"), [QUICK ? "1" : "2", String(CONNECTIONS)], { cpu: pinning ? SERVER_CPU : undefined });

  const secrets = await benchSecrets();
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round} of ${ROUNDS}`);
    const rows = [];
    if (ONLY !== "peers") rows.push(await measureOurs(secrets, results.bundle.path));
    if (ONLY !== "ours") {
      rows.push(await measurePeer(secrets, "memory"));
      rows.push(await measurePeer(secrets, "redis"));
    }
    rounds.push(rows);
  }
  results.rounds = rounds.map((rows) => Object.fromEntries(rows.filter((r) => !r.skipped).map((r) => [r.key, roundFigures(r)])));
  results.rows = rounds[0].map((first) => medianRound(rounds.map((rows) => rows.find((r) => r.key === first.key))));
  if (args["with-wrangler-dev"]) results.rows.push(await measureWranglerDev(secrets));

  results.system.loadAverageAtEnd = loadavg().map((l) => l.toFixed(2));
  results.elapsedSeconds = (Date.now() - startedAt) / 1000;
  const markdown = renderReport(results);
  process.stdout.write(`${markdown}\n`);
  // Only a complete run replaces bench/results/latest.md; partial or quick runs go to bench/.out/.
  const complete = !QUICK && !ONLY;
  const mdPath = complete ? join("bench", "results", "latest.md") : join("bench", ".out", "latest.md");
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  mkdirSync(join(ROOT, "bench", ".out"), { recursive: true });
  writeFileSync(join(ROOT, mdPath), `${markdown}\n`);
  writeFileSync(join(ROOT, "bench", ".out", "latest.json"), JSON.stringify(results, null, 2));
  log(`done in ${results.elapsedSeconds.toFixed(0)} s; wrote ${mdPath} and bench/.out/latest.json`);
}

/** What the report shows of one row in one round. */
function roundFigures(row) {
  return { tokensPerSecond: row.run.tokensPerSecond, serverMicrosPerToken: row.serverMicrosPerToken, p99Ms: row.run.latencyMs.p99 };
}

/** A row's representative round: the one with the median tokens/s (its checks and details are shown). */
function medianRound(rows) {
  const measured = rows.filter((r) => !r.skipped);
  if (measured.length === 0) return rows[0];
  const sorted = [...measured].sort((a, b) => a.run.tokensPerSecond - b.run.tokensPerSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], roundsMeasured: measured.length };
}

function loadgen(label, origin, path, host, jwksPath, aud, serverPids, secrets) {
  return runLoad({ label, origin, path, host, jwksPath, aud, serverPids, secrets, connections: CONNECTIONS, warmupSeconds: WARMUP, durationSeconds: DURATION, pinning });
}

function pinTree(pids) {
  if (!pinning) return;
  for (const pid of pids) pin(pid, SERVER_CPU);
}

async function measureOurs(secrets, bundle) {
  const label = "this service";
  log(`${label}: registering the client, then cold start (Miniflare, KV/DO in ${STORAGE_ROOT}) …`);
  const server = await startOurs({ bundle, secrets, pinning });
  cleanups.push(() => server.stop());
  const { hostPid, workerdPids } = server;
  const run = await loadgen(label, server.origin, "/oauth2/token", HOST, "/.well-known/jwks.json", ISSUER, [...workerdPids, hostPid], secrets);
  await server.stop();
  const workerdMicros = workerdPids.reduce((s, pid) => s + run.cpuPerPid[pid], 0);
  return {
    key: "ours",
    label,
    setup: `Miniflare ${results.system.miniflare} from Node (options from wrangler.toml), workerd ${results.system.workerd}, unsafeDirectSockets, KV + Durable Objects in ${STORAGE_ROOT}${STORAGE_ROOT === "/dev/shm" ? " (tmpfs)" : " (**not tmpfs**: /dev/shm missing)"}, generated ISSUER/SIGNING_KEYS (ES256)/CLIENT_SECRET_KEY/ADMIN_TOKEN, client registered through the admin API, requests with Host ${HOST}`,
    run,
    coldStart: server.coldStart,
    // Server CPU = the workerd process(es); Miniflare's Node host is listed apart (idle: no proxy in the path).
    serverMicrosPerToken: workerdMicros / run.ok,
    cpuBreakdown: { workerd: workerdMicros / run.ok, "Miniflare Node host": run.cpuPerPid[hostPid] / run.ok },
  };
}

async function measurePeer(secrets, adapter) {
  const label = `node-oidc-provider ${results.system.oidcProvider}, ${adapter === "redis" ? "Redis adapter" : "in-memory adapter"}`;
  let redis;
  if (adapter === "redis") {
    const found = ensureRedis({ log });
    if (!found.path) return { key: "peer-redis", label, skipped: found.reason };
    const redisPort = await freePort();
    redis = await startRedis(found.path, redisPort, { cpu: pinning ? SERVER_CPU : undefined });
    redis.version = redisVersion(found.path);
    redis.port = redisPort;
    redis.installed = found.installed;
    cleanups.push(() => stopChild(redis.child));
  }
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const origin = issuer;
  const peerConfig = JSON.stringify({
    port,
    issuer,
    clientId: CLIENT_ID,
    clientPublicJwk: secrets.clientPublicJwk,
    serverPrivateJwk: secrets.serverJwk,
    resource: RESOURCE,
    adapter,
    redisPort: redis?.port,
  });
  log(`${label}: cold start …`);
  const body = oneBody(secrets, issuer);
  const start = () =>
    spawnNodeReady(join(LIB, "peer-oidc-provider.mjs"), [peerConfig], { cpu: pinning ? SERVER_CPU : undefined, env: { NODE_ENV: "production" } });
  const { server, coldStart: cold } = await coldStart(start, origin, "/token", undefined, body);
  cleanups.push(() => stopChild(server.child));
  const pids = [server.child.pid, ...(redis ? [redis.pid] : [])];
  pinTree(pids);
  const run = await loadgen(label, origin, "/token", undefined, "/jwks", issuer, pids, secrets);
  await stopChild(server.child);
  if (redis) await stopChild(redis.child);
  const breakdown = { node: run.cpuPerPid[server.child.pid] / run.ok };
  if (redis) breakdown["redis-server"] = run.cpuPerPid[redis.pid] / run.ok;
  return {
    key: adapter === "redis" ? "peer-redis" : "peer-memory",
    label,
    setup:
      adapter === "redis"
        ? `Node ${process.version}, ioredis ${results.system.ioredis}, redis-server ${redis.version} on loopback (no persistence${redis.installed ? ", installed by this run" : ""}), both on core ${SERVER_CPU}`
        : `Node ${process.version}, default in-memory adapter (replay cache is per process)`,
    run,
    coldStart: cold,
    serverMicrosPerToken: run.serverCpuMicros / run.ok,
    cpuBreakdown: breakdown,
  };
}

/** Reference only: the same Worker under `wrangler dev` (two workerd processes + a Node parent). */
async function measureWranglerDev(secrets) {
  const label = "this service under wrangler dev (reference only)";
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const persist = mkdtempSync(join(STORAGE_ROOT, "ets-bench-wd-"));
  cleanups.push(() => rmSync(persist, { recursive: true, force: true }));
  const vars = Object.entries(secrets.bindings).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const argv = [join(ROOT, "node_modules/.bin/wrangler"), "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", "0",
    "--show-interactive-dev-session=false", "--persist-to", persist, ...vars];
  const [cmd, ...rest] = [...launchPrefix(pinning ? SERVER_CPU : undefined), ...argv];
  log(`${label}: starting …`);
  const child = spawn(cmd, rest, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...QUIET_WRANGLER }, detached: false });
  cleanups.push(() => stopChild(child));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await request(`${origin}/healthz`, { headers: { host: HOST } });
      await res.body.text();
      if (res.statusCode === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) return { key: "wrangler-dev", label, skipped: "wrangler dev did not start" };
    await new Promise((r) => setTimeout(r, 100));
  }
  const reg = await request(`${origin}/admin/clients`, {
    method: "POST",
    headers: { host: HOST, authorization: `Bearer ${secrets.bindings.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ client_id: CLIENT_ID, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [secrets.clientPublicJwk] }, scope: "read write" }),
  });
  await reg.body.text();
  const pids = [child.pid, ...descendants(child.pid)];
  pinTree(pids);
  raisePriority(child.pid);
  const run = await loadgen(label, origin, "/oauth2/token", HOST, "/.well-known/jwks.json", ISSUER, pids, secrets);
  await stopChild(child);
  return { key: "wrangler-dev", label, setup: `wrangler ${results.system.wrangler} dev --local (proxy workerd + worker workerd + Node)`, run, serverMicrosPerToken: run.serverCpuMicros / run.ok };
}
