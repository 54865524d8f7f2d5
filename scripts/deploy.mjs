#!/usr/bin/env node
// `npm run deploy -- --env <name>`: `wrangler deploy` for one named environment of wrangler.toml.
// Without --env it refuses: the top level is local dev (its own Worker name, no route, no ISSUER),
// never something to upload by accident. Extra arguments go to wrangler (`--dry-run`, …).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === "--env" || a === "-e" || a.startsWith("--env=") || a.startsWith("-e="));
const env = at === -1 ? undefined : args[at].includes("=") ? args[at].slice(args[at].indexOf("=") + 1) : args[at + 1];
const { experimental_readRawConfig } = await import("wrangler");
const environments = Object.keys(experimental_readRawConfig({ config: "wrangler.toml" }).rawConfig.env ?? {});
if (env === undefined || env === "" || env.startsWith("-") || !environments.includes(env)) {
  console.error(
    `npm run deploy: name the environment to deploy: npm run deploy -- --env ${environments[0] ?? "<name>"}` +
      ` (wrangler.toml defines ${environments.join(", ") || "none"}; the top level is local dev and is never deployed)`,
  );
  process.exit(2);
}
const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const result = spawnSync(process.execPath, [wrangler, "deploy", ...args], { stdio: "inherit" });
process.exit(result.status ?? 1);
