/**
 * Worker entry: the HTTP app and the Durable Object classes named in wrangler.toml.
 */
import { app } from "./app.js";

export { RegistryWriter } from "./stores/registry-writer.js";
export { DevSecrets } from "./stores/dev-secrets.js";
export { QuotaCounter } from "./stores/quota-counter.js";
export { ReplayGuard } from "./stores/replay-guard.js";
export { RevocationList } from "./stores/revocation-list.js";

export default app satisfies ExportedHandler<Env>;
