import type { ServerContext } from "../context.js";
import type { DecisionTrace } from "../core/audit.js";

/** Hono environment of this app: the Worker's bindings plus the resolved server context. */
export interface AppEnv {
  Bindings: Env;
  /** `decision`: the audit trace of a token, introspection or revocation request (http/decision.ts). */
  Variables: { server: ServerContext; decision: DecisionTrace | undefined };
}
