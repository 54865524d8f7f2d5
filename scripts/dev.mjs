#!/usr/bin/env node
// `npm start`: wrangler dev, fully local and quiet (no account, no network, no telemetry), on
// http://127.0.0.1:8787, then prints the admin token, the demo clients and the /jwts walk-through.
// Nothing the Worker needs comes from here: plain `npx wrangler dev` works the same, minus the
// printing (the Worker generates its local key, secrets and demo clients itself).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const PORT = Number(process.env.PORT ?? 8787);
const BASE = `http://127.0.0.1:${PORT}`;
const STATE_DIR = ".wrangler";
const TOKEN_FILE = `${STATE_DIR}/dev-admin-token`;
const DEMO_KEY_FILE = `${STATE_DIR}/demo-private-key-jwt.private.jwk.json`;

mkdirSync(STATE_DIR, { recursive: true });
if (!existsSync(TOKEN_FILE)) writeFileSync(TOKEN_FILE, randomBytes(24).toString("base64url"), { mode: 0o600 });
const devVars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
const adminToken = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(devVars)?.[1] ?? readFileSync(TOKEN_FILE, "utf8").trim();

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const args = [
  wranglerBin, "dev", "--local", "--ip", "127.0.0.1", "--port", String(PORT),
  "--inspector-port", "0", "--show-interactive-dev-session=false",
  ...(devVars.match(/^ADMIN_TOKEN\s*=/m) ? [] : ["--var", `ADMIN_TOKEN:${adminToken}`]),
  ...process.argv.slice(2),
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
  writeFileSync(DEMO_KEY_FILE, JSON.stringify(keyClient.private_jwk, null, 2), { mode: 0o600 });
  chmodSync(DEMO_KEY_FILE, 0o600);
  console.log(`
  edge-token-service is running locally on ${BASE}
  issuer:        ${info.issuer}
  admin token:   ${adminToken}
  demo clients:  ${secretClient.client_id} (client_secret_jwt, secret ${secretClient.client_secret})
                 ${keyClient.client_id} (private_key_jwt, private key in ${DEMO_KEY_FILE})

  The OAuth Toolkit walk-through:
    curl -s ${BASE}/jwts                 # sample claims and a ready curl for the token endpoint
    curl -s ${BASE}/jwts | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).curl))' | sh

  Admin API:  curl -s -H "Authorization: Bearer ${adminToken}" ${BASE}/admin/clients
`);
} catch (err) {
  console.error(`could not print the demo clients: ${err.message}`);
}

async function waitForHealth() {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`the dev server did not answer on ${BASE}/healthz within 30 s`);
}
