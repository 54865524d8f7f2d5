/**
 * The Hono application: middleware, the routes of SPEC §2, and the one error handler that turns
 * every failure into an RFC 6749 §5.2 JSON response (never a stack trace).
 *
 * Data flows one way: routes/ → oauth/ → stores/. Nothing below routes/ knows about Hono.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { ConfigError } from "./config.js";
import { serverContext } from "./context.js";
import type { AppEnv } from "./http/app-types.js";
import { finishDecision } from "./http/decision.js";
import { oauthErrorResponse } from "./http/errors.js";
import { OAuthError } from "./core/errors.js";
import { triedBasicAuth } from "./oauth/client-auth/index.js";
import { adminRoutes } from "./routes/admin.js";
import { discoveryRoutes } from "./routes/discovery.js";
import { INTROSPECTION_PATH, introspectRoutes } from "./routes/introspect.js";
import { jwtsRoutes } from "./routes/jwts.js";
import { OTK_REVOCATION_PATH, REVOCATION_PATH, revokeRoutes } from "./routes/revoke.js";
import { OTK_TOKEN_PATH, TOKEN_PATH, tokenRoutes } from "./routes/token.js";

export const app = new Hono<AppEnv>();

// Browser-facing hardening headers for everything but the OAuth form endpoints, whose JSON
// answers carry only what RFC 6749 §5.1 asks (no-store) plus nosniff: a dozen headers per token
// response cost measurable CPU on the hot path.
const FORM_ENDPOINTS = new Set<string>([TOKEN_PATH, OTK_TOKEN_PATH, INTROSPECTION_PATH, REVOCATION_PATH, OTK_REVOCATION_PATH]);
const hardening = secureHeaders({ crossOriginResourcePolicy: "cross-origin" });
app.use((c, next) => (c.req.method === "POST" && FORM_ENDPOINTS.has(c.req.path) ? next() : hardening(c, next)));

// Liveness needs no configuration and reveals none.
app.get("/healthz", (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" }));

app.use(async (c, next) => {
  c.set("server", serverContext(c.env, new URL(c.req.url)));
  await next();
});

app.route("/", tokenRoutes);
app.route("/", introspectRoutes);
app.route("/", revokeRoutes);
app.route("/", discoveryRoutes);
app.route("/", jwtsRoutes);
app.route("/", adminRoutes);

app.notFound(() => oauthErrorResponse(new OAuthError("route_not_found")));

app.onError((err, c) => {
  const triedBasic = triedBasicAuth(c.req.header("Authorization") ?? null);
  if (err instanceof OAuthError) {
    // SPEC §11: a refusal of the token, introspection or revocation endpoint is its audit line,
    // reason included; elsewhere a request_failed line. Never the assertion, secret or token.
    const audited = finishDecision(c, { status: err.status, reason: err.reason });
    if (!audited && (err.status >= 500 || err.error === "invalid_client")) {
      console.log(JSON.stringify({ event: "request_failed", path: c.req.path, error: err.error, reason: err.reason }));
    }
    return oauthErrorResponse(err, { triedBasicAuth: triedBasic });
  }
  if (err instanceof ConfigError) console.error(JSON.stringify({ event: "config_error", setting: err.setting, message: err.message }));
  else console.error(JSON.stringify({ event: "unexpected_error", path: c.req.path, name: err.name }));
  const answer = err instanceof ConfigError ? new OAuthError("config_error", err.message) : new OAuthError("unexpected_error");
  finishDecision(c, { status: answer.status, reason: answer.reason });
  return oauthErrorResponse(answer);
});
