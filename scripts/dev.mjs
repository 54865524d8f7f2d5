#!/usr/bin/env node
// `npm start [-- --port N]` (`npm start --port N` works too): wrangler dev, fully local and quiet (no account, no network, no
// telemetry), on http://127.0.0.1:8787 (or PORT / --port), then prints the admin token, the demo
// clients and the /jwts walk-through.
//
// The local admin token lives in .dev.vars (gitignored), which plain `npx wrangler dev` reads too,
// so both ways of starting share it and the CLI finds it there for a loopback URL. Nothing else the
// Worker needs comes from here: it generates its local keys and demo clients itself.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const argv = process.argv.slice(2);
const portFlag = argv.findIndex((a) => a === "--port" || a.startsWith("--port="));
let port = process.env.PORT ?? "8787";
if (portFlag !== -1) {
  const [flag] = argv.splice(portFlag, 1);
  port = flag.includes("=") ? flag.slice("--port=".length) : argv.splice(portFlag, 1)[0];
} else if (process.env.npm_config_port !== undefined) {
  // `npm start --port N` without `--`: npm keeps --port as its own setting (npm_config_port) and
  // passes N on as an argument (`npm start --port=N` gives npm_config_port=N). Both mean the port.
  const npmPort = process.env.npm_config_port;
  port = npmPort === "true" && /^\d+$/.test(argv[0] ?? "") ? argv.shift() : npmPort;
}
if (!/^\d{1,5}$/.test(port ?? "")) {
  console.error(`npm start: --port needs a port number, got ${JSON.stringify(port)}`);
  process.exit(2);
}
const BASE = `http://127.0.0.1:${port}`;
const DEV_VARS = ".dev.vars";
const DEMO_KEY_FILE = ".wrangler/demo-private-key-jwt.private.jwk.json";

const adminToken = ensureDevAdminToken();

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const args = [
  wranglerBin, "dev", "--local", "--ip", "127.0.0.1", "--port", port,
  "--inspector-port", "0", "--show-interactive-dev-session=false", ...argv,
];
// Node runs wrangler directly (not through npx), so a signal to this script reaches wrangler,
// which stops its workerd processes.
const child = spawn(process.execPath, args, {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));

await waitForHealth();
try {
  const res = await fetch(`${BASE}/admin/local-dev`, { headers: { Authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /admin/local-dev answered ${res.status}`);
  const info = await res.json();
  const [secretClient, keyClient] = info.demo_clients;
  mkdirSync(".wrangler", { recursive: true });
  writeFileSync(DEMO_KEY_FILE, JSON.stringify(keyClient.private_jwk, null, 2), { mode: 0o600 });
  chmodSync(DEMO_KEY_FILE, 0o600);
  console.log(`
  edge-token-service is running locally on ${BASE}
  issuer:        ${info.issuer}
  admin token:   ${adminToken}  (ADMIN_TOKEN in ${DEV_VARS}; the CLI reads it there for a loopback URL)
  demo clients:  ${secretClient.client_id} (client_secret_jwt, secret ${secretClient.client_secret})
                 ${keyClient.client_id} (private_key_jwt, private key in ${DEMO_KEY_FILE})

  The OAuth Toolkit walk-through:
    curl -s ${BASE}/jwts                 # sample claims and a ready curl for the token endpoint
    curl -s ${BASE}/jwts | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).curl))' | sh

  The CLI:   export ETS_URL=${BASE}; npm run -s cli -- clients list
`);
} catch (err) {
  console.error(`could not print the demo clients: ${err.message}`);
}

/** ADMIN_TOKEN from .dev.vars, written there (256 bits, mode 0600) when missing. */
function ensureDevAdminToken() {
  const text = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, "utf8") : "";
  const found = /^\s*ADMIN_TOKEN\s*=\s*["']?([^"'\n]+)["']?\s*$/m.exec(text)?.[1];
  if (found) return found.trim();
  const token = randomBytes(32).toString("base64url");
  writeFileSync(DEV_VARS, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}ADMIN_TOKEN=${token}\n`, { mode: 0o600 });
  return token;
}

async function waitForHealth() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`the dev server did not answer on ${BASE}/healthz within 60 s`);
}
