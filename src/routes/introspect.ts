/**
 * POST /oauth2/introspect (RFC 7662, SPEC §2), client-authenticated like the token endpoint.
 */
import { Hono } from "hono";
import { clientAuthSettings, tokenLifecycleDependencies } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { NO_STORE_HEADERS } from "../http/errors.js";
import { finishDecision, startDecision } from "../http/decision.js";
import { readOAuthForm } from "../http/form.js";
import { FORM_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import { handleIntrospectionRequest } from "../oauth/introspection.js";
import { TOKEN_PATH } from "./token.js";

export const INTROSPECTION_PATH = "/oauth2/introspect";

export const introspectRoutes = new Hono<AppEnv>();

introspectRoutes.post(INTROSPECTION_PATH, async (c, next) => (startDecision(c, "introspection"), next()), limitBody(FORM_BODY_LIMIT_BYTES), async (c) => {
  const server = c.get("server");
  const form = await readOAuthForm(c.req.raw);
  // Compat-mode assertion aud: the issuer, this endpoint's URL, or the token endpoint's URL.
  const settings = clientAuthSettings(server, INTROSPECTION_PATH, TOKEN_PATH);
  const response = await handleIntrospectionRequest(form, c.req.header("Authorization") ?? null, tokenLifecycleDependencies(server), settings, c.get("decision"));
  finishDecision(c, { status: 200 });
  return c.json(response, 200, NO_STORE_HEADERS);
});
