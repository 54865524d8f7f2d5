/**
 * Diagnostic entry (`node bench/experiment.mjs no-do`): the real Worker, except that the
 * REPLAY_GUARD binding's objects answer "first use" at once without a Durable Object call, so a
 * run shows what the replay guard's round trip costs. Never deploy it: it accepts replays.
 * Built through the binding's public shape (`idFromName`, `get`, the `consume` RPC), not by
 * patching source text.
 */
import { app } from "../../src/app.js";

export { DevSecrets, QuotaCounter, RegistryWriter, ReplayGuard, RevocationList, SigningKeyRing } from "../../src/index.js";

const firstUse = { consume: async () => true };
const noDo = (namespace: Env["REPLAY_GUARD"]) => ({
  idFromName: (name: string) => namespace.idFromName(name),
  get: () => firstUse,
});

/** One wrapped env per real env, so the Worker's per-env caches stay warm as in production. */
const wrapped = new WeakMap<object, Env>();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    let changed = wrapped.get(env);
    if (!changed) wrapped.set(env, (changed = { ...env, REPLAY_GUARD: noDo(env.REPLAY_GUARD) as unknown as Env["REPLAY_GUARD"] }));
    return app.fetch(request, changed, ctx);
  },
} satisfies ExportedHandler<Env>;
