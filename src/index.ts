/**
 * Worker entry: the HTTP app, the Cron Trigger, and the Durable Object classes named in
 * wrangler.toml.
 */
import { app } from "./app.js";
import { ConfigError, loadSettings } from "./config.js";
import { tickKeyRing } from "./stores/key-ring.js";

export { RegistryWriter } from "./stores/registry-writer.js";
export { DevSecrets } from "./stores/dev-secrets.js";
export { QuotaCounter } from "./stores/quota-counter.js";
export { ReplayGuard } from "./stores/replay-guard.js";
export { RevocationList } from "./stores/revocation-list.js";
export { SigningKeyRing } from "./stores/key-ring.js";

/**
 * The Cron Trigger (wrangler.toml `[triggers]`): the backstop of the key ring's alarm (SPEC §12).
 * With SIGNING_KEY_ROTATION = "auto" it advances the ring, if one exists, and re-arms its alarm, so
 * a lost alarm delays a transition by one cron interval at most.
 */
async function scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  let schedule;
  try {
    schedule = loadSettings(env).keyRing;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(JSON.stringify({ event: "config_error", setting: err.setting, message: err.message }));
    return;
  }
  if (schedule !== null) ctx.waitUntil(tickKeyRing(env.SIGNING_KEY_RING, schedule));
}

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
