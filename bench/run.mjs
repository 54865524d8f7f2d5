#!/usr/bin/env node
/**
 * `npm run bench`: this service against the crypto floor, the design floor and node-oidc-provider,
 * in one bounded run (about 3.5 min).
 *
 * 1. Builds the Worker bundle (`wrangler deploy --dry-run --outdir <tmp>`): bundle size.
 * 2. Crypto floor: jose ES256 verify + sign per token, in Node, on core 0.
 * 3. In interleaved rounds, each server started afresh per round, the load generator on core 1,
 *    the server pinned to core 0, its CPU from /proc/<pid>/stat:
 *    - this service: the bundle under Miniflare started from Node with wrangler.toml's
 *      [env.production] as shipped (nothing overridden; the report prints it), direct socket, KV
 *      and Durable Objects on /dev/shm, the three secrets generated here;
 *    - the design floor (bench/variants/floor.ts): workerd HTTP + the JOSE pair + one Durable
 *      Object call, no Hono and no OAuth rules;
 *    - node-oidc-provider with its in-memory adapter, and with a Redis adapter against a private
 *      redis-server (the one on PATH; without one that row is skipped with a note).
 * 4. Prints a Markdown table, the configuration measured and the targets of issue 17 (and writes
 *    it to bench/results/latest.md; raw JSON to bench/.out/).
 *
 * Options: --rounds=N (3) --duration=S (8) --warmup=S (3) --connections=N (32) --only=ours|peers
 *   --quick (one round of 3 s, for checking the harness). BENCH_PORTS=8820-8849 keeps every
 *   server on those ports. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
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
  ROOT,
  runLoad,
  SERVER_CPU,
  shippedConfiguration,
  startOurs,
  STORAGE_ROOT,
  systemInfo,
} from "./lib/harness.mjs";
import { canPin, freePort, pin, runNodeJson, spawnNodeReady, stopChild } from "./lib/proc.mjs";
import { findRedisServer, redisVersion, startRedis } from "./lib/redis.mjs";
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

const startedAt = Date.now();
const pinning = canPin() && cpus().length >= 2;
// The orchestrator itself stays off the server's core (it is idle while measuring anyway).
if (pinning) pin(process.pid, LOAD_CPU);

const results = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  date: new Date().toISOString(),
  system: systemInfo(),
  configuration: shippedConfiguration(),
  settings: { rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, pinning, serverCpu: SERVER_CPU, loadCpu: LOAD_CPU },
  rows: [],
};

try {
  await main();
} finally {
  await cleanup();
}

async function main() {
  log(`load average at start: ${results.system.loadAverage.join(" ")} (${results.system.cpuCount} CPUs)`);
  const { env, vars } = results.configuration;
  log(`this service runs wrangler.toml [env.${env}] as shipped: ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  const outDir = mkdtempSync(join(tmpdir(), "ets-bench-bundle-"));
  cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
  log("building the bundle (wrangler deploy --dry-run) …");
  results.bundle = buildBundle(outDir);
  log(`bundle ${results.bundle.rawBytes} B raw, ${results.bundle.gzipBytes} B gzip`);
  if (ONLY !== "peers") {
    const floorDir = mkdtempSync(join(tmpdir(), "ets-bench-floor-"));
    cleanups.push(() => rmSync(floorDir, { recursive: true, force: true }));
    results.floorBundle = buildBundle(floorDir, ROOT, "bench/variants/floor.ts");
  }

  log("crypto floor …");
  results.floor = await runNodeJson(join(LIB, "crypto-floor.mjs"), [QUICK ? "1" : "2", String(CONNECTIONS)], { cpu: pinning ? SERVER_CPU : undefined });

  const secrets = await benchSecrets();
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round} of ${ROUNDS}`);
    const rows = [];
    if (ONLY !== "peers") {
      rows.push(await measureOurs(secrets, results.bundle.path));
      rows.push(await measureOurs(secrets, results.floorBundle.path, "floor"));
    }
    if (ONLY !== "ours") {
      rows.push(await measurePeer(secrets, "memory"));
      rows.push(await measurePeer(secrets, "redis"));
    }
    rounds.push(rows);
  }
  results.rounds = rounds.map((rows) => Object.fromEntries(rows.filter((r) => !r.skipped).map((r) => [r.key, roundFigures(r)])));
  results.rows = rounds[0].map((first) => medianRound(rounds.map((rows) => rows.find((r) => r.key === first.key))));

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

/** This service as wrangler.toml ships it, or with `kind` "floor" the design floor (bench/variants/floor.ts). */
async function measureOurs(secrets, bundle, kind = "ours") {
  const floor = kind === "floor";
  const label = floor ? "design floor: workerd HTTP + jose verify + sign + one Durable Object call" : "this service";
  log(`${label}: registering the client, then cold start (Miniflare, KV/DO in ${STORAGE_ROOT}) …`);
  const extraBindings = floor ? { BENCH_FLOOR: "jose+do", BENCH_CLIENT_JWK: JSON.stringify(secrets.clientPublicJwk) } : {};
  const server = await startOurs({ bundle, secrets, pinning, extraBindings });
  cleanups.push(() => server.stop());
  const { hostPid, workerdPids } = server;
  const run = await loadgen(label, server.origin, "/oauth2/token", HOST, "/.well-known/jwks.json", ISSUER, [...workerdPids, hostPid], secrets);
  await server.stop();
  const workerdMicros = workerdPids.reduce((s, pid) => s + run.cpuPerPid[pid], 0);
  return {
    key: kind,
    label,
    setup: floor
      ? "bench/variants/floor.ts under the same Miniflare setup: POST /oauth2/token verifies the assertion and signs the token with jose and calls ReplayGuard.consume once; no Hono, no OAuth rules"
      : `Miniflare ${results.system.miniflare} from Node with wrangler.toml [env.${results.configuration.env}] as shipped (above), workerd ${results.system.workerd}, unsafeDirectSockets, KV + Durable Objects in ${STORAGE_ROOT}${STORAGE_ROOT === "/dev/shm" ? " (tmpfs)" : " (**not tmpfs**: /dev/shm missing)"}, client registered through the admin API (default replay-guard topology), requests with Host ${HOST}`,
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
    const found = findRedisServer();
    if (!found.path) return { key: "peer-redis", label, skipped: found.reason };
    const redisPort = await freePort();
    redis = await startRedis(found.path, redisPort, { cpu: pinning ? SERVER_CPU : undefined });
    redis.version = redisVersion(found.path);
    redis.port = redisPort;
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
        ? `Node ${process.version}, ioredis ${results.system.ioredis}, redis-server ${redis.version} on loopback (no persistence), both on core ${SERVER_CPU}`
        : `Node ${process.version}, default in-memory adapter (replay cache is per process)`,
    run,
    coldStart: cold,
    serverMicrosPerToken: run.serverCpuMicros / run.ok,
    cpuBreakdown: breakdown,
  };
}
