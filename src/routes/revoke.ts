/**
 * POST /oauth2/revoke (RFC 7009, SPEC §2) and its OAuth Toolkit alias
 * POST /auth/oauth/v2/token/revoke, client-authenticated like the token endpoint.
 */
import { Hono } from "hono";
import { clientAuthSettings, tokenLifecycleDependencies } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { NO_STORE_HEADERS } from "../http/errors.js";
import { finishDecision, startDecision } from "../http/decision.js";
import { readOAuthForm } from "../http/form.js";
import { FORM_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import { handleRevocationRequest } from "../oauth/revocation.js";
import { OTK_TOKEN_PATH, TOKEN_PATH } from "./token.js";

export const REVOCATION_PATH = "/oauth2/revoke";
export const OTK_REVOCATION_PATH = "/auth/oauth/v2/token/revoke";

export const revokeRoutes = new Hono<AppEnv>();

// Compat-mode assertion aud: the issuer, the called URL, or the token endpoint of the same family.
for (const [path, tokenPath] of [
  [REVOCATION_PATH, TOKEN_PATH],
  [OTK_REVOCATION_PATH, OTK_TOKEN_PATH],
] as const) {
  revokeRoutes.post(path, async (c, next) => (startDecision(c, "revocation"), next()), limitBody(FORM_BODY_LIMIT_BYTES), async (c) => {
    const server = c.get("server");
    const form = await readOAuthForm(c.req.raw);
    await handleRevocationRequest(form, c.req.header("Authorization") ?? null, tokenLifecycleDependencies(server), clientAuthSettings(server, path, tokenPath), c.get("decision"));
    finishDecision(c, { status: 200 });
    // RFC 7009 §2.2: 200 with an empty body, revoked or not.
    return c.body(null, 200, NO_STORE_HEADERS);
  });
}
