/**
 * The load generator: a separate Node process (the caller pins it to its own core) that drives one
 * token endpoint with `client_credentials` + `private_key_jwt` (ES256), every request carrying a
 * fresh client assertion, all signed before the clock starts.
 *
 * Closed loop over `connections` keep-alive connections (undici Pool, no pipelining): each
 * connection sends its next request as soon as the previous answer is read. A warm-up, then the
 * measured window; the servers' CPU is read from /proc/<pid>/stat at the window's edges.
 * Afterwards: checks that tokens are real JWTs signed by the server's published key, that a
 * replayed assertion is refused (sent again at once, and the window's first assertion sent again
 * after all the others), and how many of 8 concurrent copies of one assertion succeed.
 *
 * Input (stdin, JSON): { origin, path, host?, jwksPath, clientId, clientJwk (private, with kid),
 *   aud, scope?, grant? (assertion.mjs: the SPEC §13 grants), connections, warmupSeconds,
 *   durationSeconds, serverPids, label }
 * Output (stdout, one JSON line): see `result` at the end.
 */
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { Client } from "undici";
import { tokenRequestFactory } from "./assertion.mjs";
import { cpuCoreTicks, cpuSnapshot } from "./proc.mjs";

const cfg = JSON.parse(readFileSync(0, "utf8"));
const freshBody = tokenRequestFactory({ clientJwk: cfg.clientJwk, clientId: cfg.clientId, aud: cfg.aud, scope: cfg.scope, grant: cfg.grant });

function generate(pool, count) {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) pool.push(freshBody());
  return (performance.now() - t0) / 1000;
}

const headers = { "content-type": "application/x-www-form-urlencoded", ...(cfg.host ? { host: cfg.host } : {}) };
// One keep-alive connection per closed-loop worker (what a Pool of `connections` does, but each
// worker keeps its own connection, so per-connection fairness can be seen).
const clients = Array.from({ length: cfg.connections }, () => new Client(cfg.origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 }));

async function post(body, connection = 0) {
  const { statusCode, body: stream } = await clients[connection].request({ path: cfg.path, method: "POST", headers, body });
  return { status: statusCode, text: await stream.text() };
}

/**
 * Run the closed loop until `seconds` elapse or `bodies` runs out. Returns latencies (ms) of the
 * requests completed, status counts, a sample of successful bodies, and a 100 ms timeline.
 */
async function phase(bodies, seconds, { keepBodies = 0 } = {}) {
  const latencies = new Float64Array(bodies.length);
  const timeline = [];
  let done = 0;
  let ok = 0;
  let next = 0;
  const statuses = {};
  const errorSamples = [];
  const okSamples = [];
  const usedBodies = [];
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let exhausted = false;

  const bucket = (t) => {
    const i = Math.floor((t - t0) / 100);
    while (timeline.length <= i) timeline.push({ n: 0, maxMs: 0 });
    return timeline[i];
  };

  const perConnection = Array.from({ length: cfg.connections }, () => ({ n: 0, maxMs: 0 }));
  async function worker(connection) {
    while (performance.now() < until) {
      if (next >= bodies.length) {
        exhausted = true;
        return;
      }
      const body = bodies[next++];
      const start = performance.now();
      let status;
      let text;
      try {
        ({ status, text } = await post(body, connection));
      } catch (err) {
        status = `network:${err.code ?? err.name}`;
        text = String(err.message);
      }
      const end = performance.now();
      const ms = end - start;
      latencies[done++] = ms;
      perConnection[connection].n++;
      if (ms > perConnection[connection].maxMs) perConnection[connection].maxMs = ms;
      const b = bucket(end);
      b.n++;
      if (ms > b.maxMs) b.maxMs = ms;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200 && text.startsWith('{"access_token":"ey')) {
        ok++;
        if (okSamples.length < 64 && (ok <= 3 || Math.random() < 0.01)) okSamples.push(text);
        if (usedBodies.length < keepBodies) usedBodies.push(body);
      } else if (errorSamples.length < 5) {
        errorSamples.push(`${status} ${text.slice(0, 300)}`);
      }
    }
  }
  await Promise.all(Array.from({ length: cfg.connections }, (_, i) => worker(i)));
  const seconds_ = (performance.now() - t0) / 1000;
  return { perConnection, latencies: latencies.subarray(0, done), done, ok, statuses, errorSamples, okSamples, usedBodies, seconds: seconds_, exhausted, timeline, consumed: next };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Decode a compact JWS and verify its ES256 signature against the server's JWKS. */
function checkJwt(token, jwks) {
  const [h, p, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url"));
  const payload = JSON.parse(Buffer.from(p, "base64url"));
  const jwk = jwks.keys.find((k) => k.kid === header.kid) ?? (jwks.keys.length === 1 ? jwks.keys[0] : undefined);
  if (!jwk) return { ok: false, why: `no JWKS key for kid ${header.kid}` };
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const valid = nodeVerify("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
  const missing = ["iss", "sub", "client_id", "aud", "iat", "exp", "jti"].filter((c) => payload[c] === undefined);
  const problems = [];
  if (!valid) problems.push("signature does not verify");
  if (header.alg !== "ES256") problems.push(`alg ${header.alg}`);
  if (!/^(application\/)?at\+jwt$/i.test(header.typ ?? "")) problems.push(`typ ${header.typ}`);
  if (missing.length) problems.push(`missing ${missing.join(",")}`);
  if (payload.client_id !== cfg.clientId || payload.sub !== cfg.clientId) problems.push("sub/client_id is not the client");
  return { ok: problems.length === 0, why: problems.join("; "), header, payload };
}

// 1. Assertions for the warm-up.
const warmBodies = [];
let generationSeconds = generate(warmBodies, Math.round(cfg.warmupSeconds * 6000));

// 2. Warm-up (JIT, connections, Durable Object and KV caches).
const warm = await phase(warmBodies, cfg.warmupSeconds);
const warmRate = warm.ok / warm.seconds;
// The warm-up's second half (JIT done) predicts the measured rate better than its average.
const half = warm.timeline.slice(Math.floor(warm.timeline.length / 2));
const lateRate = (half.reduce((sum, b) => sum + b.n, 0) / Math.max(1, half.length)) * 10;

// 3. Enough fresh assertions for the measured window: twice the late warm-up rate, at least 10,000.
const bodies = [];
generationSeconds += generate(bodies, Math.max(10_000, Math.ceil(Math.max(warmRate, lateRate) * cfg.durationSeconds * 2)));

// 4. The measured window, with the servers' CPU read at both edges.
const cpu0 = cpuSnapshot(cfg.serverPids);
const core0 = cpuCoreTicks(cfg.serverCore ?? 0);
const self0 = process.cpuUsage();
const run = await phase(bodies, cfg.durationSeconds, { keepBodies: 1 });
const self1 = process.cpuUsage(self0);
const cpu1 = cpuSnapshot(cfg.serverPids);
const core1 = cpuCoreTicks(cfg.serverCore ?? 0);
const cpuPerPid = Object.fromEntries(cfg.serverPids.map((pid) => [pid, cpu1.per[pid] - cpu0.per[pid]]));
const serverCpuMicros = cpu1.total - cpu0.total;

const sorted = Float64Array.from(run.latencies).sort();
const tokenChecks = [];
let jwks;
try {
  const res = await clients[0].request({ path: cfg.jwksPath, method: "GET", headers: cfg.host ? { host: cfg.host } : {} });
  jwks = JSON.parse(await res.body.text());
  for (const text of run.okSamples) tokenChecks.push(checkJwt(JSON.parse(text).access_token, jwks));
} catch (err) {
  tokenChecks.push({ ok: false, why: `JWKS fetch/parse failed: ${err.message}` });
}

// 5. Replay checks (after the clock stops).
const describe = ({ status, text }) => {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status, error: body.error, description: body.error_description ?? (body.access_token ? undefined : text.slice(0, 120)) };
};
//  a. A fresh assertion, used, then sent again at once.
const fresh = freshBody();
const firstUse = describe(await post(fresh));
const recentReplay = describe(await post(fresh));
//  b. The first assertion of the measured window, sent again after all the others.
const oldReplay = run.usedBodies.length > 0 ? describe(await post(run.usedBodies[0])) : { status: "not run" };
//  c. One fresh assertion, 8 copies at once. A correct guard lets exactly one through.
const copy = freshBody();
const concurrent = await Promise.all(Array.from({ length: 8 }, (_, i) => post(copy, i % cfg.connections).catch((e) => ({ status: String(e.code) }))));
const replay = {
  firstUse,
  recent: recentReplay,
  old: { ...oldReplay, tokensSince: run.ok },
  concurrent: { sent: 8, accepted: concurrent.filter((r) => r.status === 200).length },
};

await Promise.all(clients.map((c) => c.close()));

const sampleToken = tokenChecks.find((c) => c.payload);
const result = {
  label: cfg.label,
  connections: cfg.connections,
  warmup: { seconds: warm.seconds, ok: warm.ok, rate: warmRate, statuses: warm.statuses, errorSamples: warm.errorSamples },
  seconds: run.seconds,
  requests: run.done,
  ok: run.ok,
  errors: run.done - run.ok,
  statuses: run.statuses,
  errorSamples: run.errorSamples,
  exhausted: run.exhausted,
  tokensPerSecond: run.ok / run.seconds,
  latencyMs: {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
    over50ms: sorted.filter((v) => v > 50).length,
  },
  serverCpuMicros,
  cpuPerPid,
  serverPidsCount: cfg.serverPids.length,
  serverMicrosPerToken: serverCpuMicros / (run.ok || 1),
  // Share of one core the servers and the load generator used in the window: a server under
  // closed-loop load that gets much less than 1.0 was starved by other processes on its core.
  serverCpuShare: serverCpuMicros / (run.seconds * 1e6),
  loadgenCpuShare: (self1.user + self1.system) / (run.seconds * 1e6),
  // Share of the server core's time the hypervisor gave to another guest (steal, /proc/stat):
  // CPU µs per token read higher, and throughput lower, the more of it there is.
  serverCoreSteal: core0 && core1 && core1.total > core0.total ? (core1.steal - core0.steal) / (core1.total - core0.total) : undefined,
  assertionsGenerated: warmBodies.length + bodies.length,
  generationSeconds,
  tokens: {
    checked: tokenChecks.length,
    valid: tokenChecks.filter((c) => c.ok).length,
    problems: [...new Set(tokenChecks.filter((c) => !c.ok).map((c) => c.why))],
    sampleHeader: sampleToken?.header,
    sampleClaims: sampleToken ? Object.keys(sampleToken.payload) : [],
  },
  replay,
  timeline: run.timeline,
  perConnection: run.perConnection,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
