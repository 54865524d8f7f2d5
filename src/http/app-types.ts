import type { ServerContext } from "../context.js";

/** Hono environment of this app: the Worker's bindings plus the resolved server context. */
export interface AppEnv {
  Bindings: Env;
  Variables: { server: ServerContext };
}
