/**
 * Shared pieces of `npm run bench` and bench/experiment.mjs: building the bundle, the generated
 * secrets, starting this service under Miniflare (client registered through the admin API, cold
 * start timed), and running the load generator.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { exportJWK, generateKeyPair } from "jose";
import { request } from "undici";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { tokenRequestFactory } from "./assertion.mjs";
import { freePort, pin, runNodeJson, spawnNodeReady, stopChild } from "./proc.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const LIB = join(ROOT, "bench", "lib");
/** The deployment the bench runs: wrangler.toml's `[env.production]`, as shipped. */
export const BENCH_ENV = "production";

/**
 * The Miniflare options of `wranglerToml`'s BENCH_ENV, exactly as shipped: its vars and bindings,
 * and no `.dev.vars` (a deployment has none; the path given instead does not exist).
 */
export function shippedWorkerOptions(wranglerToml = join(ROOT, "wrangler.toml")) {
  return unstable_getMiniflareWorkerOptions(wranglerToml, BENCH_ENV, { envFiles: [join(ROOT, "bench", "no.dev.vars")] }).workerOptions;
}

const SHIPPED = shippedWorkerOptions();
/** The shipped ISSUER; the bench client's assertions name it as `aud`. */
export const ISSUER = SHIPPED.bindings.ISSUER;
/** Requests carry the issuer's host (not a loopback name), so the Worker takes its production path. */
export const HOST = new URL(ISSUER).host;

/** The configuration the bench runs, as the report prints it (vars are not secret; secrets are generated per run). */
export function shippedConfiguration() {
  return {
    env: BENCH_ENV,
    vars: SHIPPED.bindings,
    durableObjects: Object.fromEntries(Object.entries(SHIPPED.durableObjects ?? {}).map(([binding, o]) => [binding, o.className])),
    kvNamespaces: Object.keys(SHIPPED.kvNamespaces ?? {}),
  };
}
export const CLIENT_ID = "bench-client";
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;
export const QUIET_WRANGLER = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", CI: "true" };

/** KV and Durable Object storage of the benchmarked server: tmpfs, so SQLite's fsync costs nothing. */
export const STORAGE_ROOT = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

export const log = (...m) => process.stderr.write(`[bench] ${m.join(" ")}\n`);

/**
 * `wrangler deploy --dry-run --outdir outDir` in `cwd` (the repo, or a commit's copy of it), of
 * wrangler.toml's `main` or of another entry module (a bench/variants/ module).
 * @returns the bundle's module files and sizes (raw, gzip -9), and wrangler's own size line.
 */
export function buildBundle(outDir, cwd = ROOT, entry = undefined) {
  const argv = ["deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outDir];
  const output = execFileSync(join(ROOT, "node_modules/.bin/wrangler"), argv, {
    cwd,
    env: { ...process.env, ...QUIET_WRANGLER },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  const files = readdirSync(outDir).filter((f) => /\.(m?js|wasm)$/.test(f));
  const contents = Buffer.concat(files.map((f) => readFileSync(join(outDir, f))));
  return {
    path: join(outDir, entry ? basename(entry).replace(/\.[mc]?[jt]s$/, ".js") : "index.js"),
    files,
    rawBytes: files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0),
    gzipBytes: gzipSync(contents, { level: 9 }).length,
    wranglerLine: output.match(/Total Upload:[^\n]*/)?.[0] ?? "",
  };
}

/** The three secrets (ES256 SIGNING_KEYS, CLIENT_SECRET_KEY, ADMIN_TOKEN) and a client key, fresh per run. */
export async function benchSecrets() {
  const server = await generateKeyPair("ES256", { extractable: true });
  const client = await generateKeyPair("ES256", { extractable: true });
  const serverJwk = { ...(await exportJWK(server.privateKey)), kid: "bench-signing-1", alg: "ES256", use: "sig" };
  const clientPrivateJwk = { ...(await exportJWK(client.privateKey)), kid: "bench-client-key-1", alg: "ES256" };
  const { d: _d, ...clientPublicJwk } = clientPrivateJwk;
  return {
    bindings: {
      SIGNING_KEYS: JSON.stringify({ keys: [serverJwk] }),
      CLIENT_SECRET_KEY: randomBytes(32).toString("base64url"),
      ADMIN_TOKEN: randomBytes(24).toString("base64url"),
    },
    serverJwk,
    clientPrivateJwk,
    clientPublicJwk: { ...clientPublicJwk, use: "sig" },
  };
}

/** One token request body with a fresh assertion for `aud`. */
export function oneBody(secrets, aud) {
  return tokenRequestFactory({ clientJwk: secrets.clientPrivateJwk, clientId: CLIENT_ID, aud, scope: "read" })();
}

/**
 * Process start → first successful token response. `start` spawns the server and resolves once it
 * reports ready; one token request is then sent at once (retried on connection errors only).
 */
export async function coldStart(start, origin, path, host, body) {
  const t0 = performance.now();
  const server = await start();
  const readyMs = performance.now() - t0;
  let first;
  for (let attempt = 0; attempt < 200 && !first; attempt++) {
    const r0 = performance.now();
    try {
      const res = await request(`${origin}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...(host ? { host } : {}) },
        body,
      });
      first = { status: res.statusCode, text: await res.body.text(), requestMs: performance.now() - r0 };
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const firstTokenMs = performance.now() - t0;
  if (first?.status !== 200) {
    await stopChild(server.child);
    throw new Error(`cold start: first token request failed: ${first?.status} ${first?.text}`);
  }
  return { server, coldStart: { readyMs, firstTokenMs, firstRequestMs: first.requestMs } };
}

/**
 * Start this service's bundle under Miniflare (bench/lib/miniflare-host.mjs) with the shipped
 * configuration plus the generated secrets (and `extraBindings`, for bench/variants/ only), KV and
 * Durable Objects in a fresh /dev/shm directory: a first instance registers the client through the admin
 * API, then a fresh process is timed from start to its first token and kept running.
 * @returns { origin, hostPid, workerdPids, coldStart, stop() }
 */
export async function startOurs({ bundle, secrets, pinning, extraBindings = {}, clientFields = {}, grant, wranglerToml = join(ROOT, "wrangler.toml") }) {
  const workerOptions = shippedWorkerOptions(wranglerToml);
  const persistDir = mkdtempSync(join(STORAGE_ROOT, "ets-bench-"));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const entryPort = process.env.BENCH_PORTS ? await freePort() : undefined;
  const config = (extra) =>
    JSON.stringify({ workerOptions, bundle, persistDir, port, entryPort, bindings: { ...secrets.bindings, ...extraBindings }, ...extra });
  const host = (extra = {}) =>
    spawnNodeReady(join(LIB, "miniflare-host.mjs"), [config(extra)], { cpu: pinning ? SERVER_CPU : undefined });
  const cleanup = () => rmSync(persistDir, { recursive: true, force: true });

  let loadGrant;
  try {
    const seed = await host();
    const setup = grant ? await grantSetup(grant, origin, secrets) : { clientFields: {} };
    loadGrant = setup.load;
    const reg = await request(`${origin}/admin/clients`, {
      method: "POST",
      headers: { host: HOST, authorization: `Bearer ${secrets.bindings.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        client_id: CLIENT_ID,
        client_name: "bench",
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: "ES256",
        jwks: { keys: [secrets.clientPublicJwk] },
        scope: "read write",
        ...setup.clientFields,
        ...clientFields,
      }),
    });
    const regText = await reg.body.text();
    if (reg.statusCode !== 201) throw new Error(`client registration failed: ${reg.statusCode} ${regText}`);
    if (setup.afterRegistration) loadGrant = await setup.afterRegistration();
    await stopChild(seed.child);
  } catch (err) {
    cleanup();
    throw err;
  }

  const { server, coldStart: cold } = await coldStart(
    () => host(),
    origin,
    "/oauth2/token",
    HOST,
    oneBody(secrets, ISSUER),
  );
  const { hostPid, workerdPids } = server.ready;
  if (pinning) { for (const pid of workerdPids) pin(pid, SERVER_CPU); pin(hostPid, LOAD_CPU); }
  return {
    origin,
    hostPid,
    workerdPids,
    coldStart: cold,
    /** What the load generator sends for a SPEC §13 grant (undefined: client_credentials). */
    grant: loadGrant,
    child: server.child,
    /** The last part of the Worker's console output (workerd stdout/stderr). */
    serverLog: () => server.child.stderrText(),
    async stop() {
      await stopChild(server.child);
      cleanup();
    },
  };
}

/** runLoad against this service as started by startOurs(): its token endpoint, JWKS and issuer. */
export function loadOurs(server, options) {
  return runLoad({
    origin: server.origin,
    path: "/oauth2/token",
    host: HOST,
    jwksPath: "/.well-known/jwks.json",
    aud: ISSUER,
    serverPids: server.workerdPids,
    grant: server.grant,
    ...options,
  });
}

/** The workload issuer and resources of the SPEC §13 grant setups (bench/experiment.mjs `grant=`). */
const WORKLOAD_ISSUER = "https://workload.bench.test";
const WORKLOAD_SUBJECT = "system:serviceaccount:bench:workload";
const MCP_RESOURCE = "https://mcp.bench.test/mcp";
const UPSTREAM_RESOURCE = "https://upstream.bench.test/api";

/**
 * What a SPEC §13 grant needs before the bench client registers (through the admin API):
 * `jwt-bearer`: the client key's public half trusted as a workload issuer, and a credential that
 * allows the grant on the bench client; `token-exchange`: a caller client whose long-lived token for
 * an MCP resource the bench client (allowed to exchange it) exchanges on every request.
 */
async function grantSetup(grant, origin, secrets) {
  const admin = async (path, body) => {
    const res = await request(`${origin}${path}`, {
      method: "POST",
      headers: { host: HOST, authorization: `Bearer ${secrets.bindings.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`${path}: ${res.statusCode} ${text}`);
    return JSON.parse(text);
  };
  if (grant === "jwt-bearer") {
    await admin("/admin/trusted-issuers", { issuer: WORKLOAD_ISSUER, jwks: { keys: [secrets.clientPublicJwk] }, allowed_algs: ["ES256"], shared: false, jti_policy: "single_use" });
    return {
      clientFields: { federated_credentials: [{ name: "workload", issuer: WORKLOAD_ISSUER, subject: WORKLOAD_SUBJECT, grants: ["jwt_bearer"] }] },
      load: { type: "jwt-bearer", issuer: WORKLOAD_ISSUER, subject: WORKLOAD_SUBJECT },
    };
  }
  if (grant === "token-exchange") {
    const caller = await admin("/admin/clients", { client_id: "bench-caller", token_endpoint_auth_method: "client_secret_post", scope: "read write", resources: [MCP_RESOURCE], access_token_ttl: 86_400 });
    return {
      clientFields: { token_exchange: { subject_audiences: [MCP_RESOURCE], resources: [UPSTREAM_RESOURCE] } },
      async afterRegistration() {
        const res = await request(`${origin}/oauth2/token`, {
          method: "POST",
          headers: { host: HOST, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "client_credentials", client_id: caller.client_id, client_secret: caller.client_secret, resource: MCP_RESOURCE }).toString(),
        });
        const body = JSON.parse(await res.body.text());
        if (res.statusCode !== 200) throw new Error(`bench-caller token: ${res.statusCode} ${JSON.stringify(body)}`);
        return { type: "token-exchange", subjectToken: body.access_token, resource: UPSTREAM_RESOURCE };
      },
    };
  }
  throw new Error(`unknown grant "${grant}" (jwt-bearer or token-exchange)`);
}

/** Run the load generator (bench/lib/loadgen.mjs) on the load core; resolves its JSON result. */
export function runLoad({ label, origin, path, host, jwksPath, aud, serverPids, secrets, connections, warmupSeconds, durationSeconds, pinning, grant }) {
  log(`${label}: ${warmupSeconds} s warm-up + ${durationSeconds} s at ${connections} connections …`);
  return runNodeJson(join(LIB, "loadgen.mjs"), [], {
    cpu: pinning ? LOAD_CPU : undefined,
    timeoutMs: (warmupSeconds + durationSeconds) * 1000 + 90_000,
    input: JSON.stringify({
      label,
      serverCore: SERVER_CPU,
      origin,
      path,
      host,
      jwksPath,
      aud,
      scope: "read",
      clientId: CLIENT_ID,
      clientJwk: secrets.clientPrivateJwk,
      grant,
      connections,
      warmupSeconds,
      durationSeconds,
      serverPids,
    }),
  });
}

/** Versions, CPU model and load average, for the report. */
export function systemInfo() {
  const cpuModel = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.+)/) ?? [])[1] ?? cpus()[0]?.model ?? "?";
  let workerd = "?";
  try {
    workerd = `${JSON.parse(readFileSync(join(ROOT, "node_modules/workerd/package.json"), "utf8")).version}`;
  } catch {
    // reported as "?"
  }
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
    } catch {
      return "?";
    }
  };
  return {
    node: process.version,
    workerd,
    miniflare: version("miniflare"),
    wrangler: version("wrangler"),
    oidcProvider: version("oidc-provider"),
    ioredis: version("ioredis"),
    undici: version("undici"),
    jose: version("jose"),
    cpuModel,
    cpuCount: cpus().length,
    kernel: release(),
    loadAverage: loadavg().map((l) => l.toFixed(2)),
  };
}
