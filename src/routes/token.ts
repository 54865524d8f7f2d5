/**
 * POST /oauth2/token and its OAuth Toolkit alias POST /auth/oauth/v2/token (SPEC §2).
 */
import { Hono } from "hono";
import { clientAuthSettings, tokenRequestDependencies } from "../context.js";
import type { AppEnv } from "../http/app-types.js";
import { NO_STORE_HEADERS } from "../http/errors.js";
import { background, finishDecision, startDecision } from "../http/decision.js";
import { readOAuthForm } from "../http/form.js";
import { FORM_BODY_LIMIT_BYTES, limitBody } from "../http/limits.js";
import { handleTokenRequest } from "../oauth/token-request.js";

export const TOKEN_PATH = "/oauth2/token";
export const OTK_TOKEN_PATH = "/auth/oauth/v2/token";

export const tokenRoutes = new Hono<AppEnv>();

const TOKEN_RESPONSE_HEADERS = { "Content-Type": "application/json", ...NO_STORE_HEADERS };

for (const path of [TOKEN_PATH, OTK_TOKEN_PATH]) {
  tokenRoutes.post(path, async (c, next) => (startDecision(c, "token"), next()), limitBody(FORM_BODY_LIMIT_BYTES), async (c) => {
    const server = c.get("server");
    const trace = c.get("decision")!;
    const form = await readOAuthForm(c.req.raw);
    const settings = {
      ...clientAuthSettings(server, path),
      accessTokenTtlSeconds: server.settings.accessTokenTtlSeconds,
      defaultAudience: server.settings.defaultAudience ?? server.issuer,
      dpopNonce: server.settings.dpopNonce,
    };
    const dpop = { proof: c.req.raw.headers.get("DPoP"), method: c.req.method, url: c.req.url };
    const { response, headers } = await handleTokenRequest(form, c.req.header("Authorization") ?? null, tokenRequestDependencies(server), settings, { dpop, trace, background: background(c) });
    // RFC 9449 §8.2: hand a DPoP client the current nonce with its token, saving it a round trip later.
    if (response.token_type === "DPoP" && settings.dpopNonce === "required") {
      const nonce = await (await server.secrets.dpopNonces()).issue(settings.now);
      finishDecision(c, { status: 200 });
      return c.json(response, 200, { ...NO_STORE_HEADERS, ...headers, "DPoP-Nonce": nonce });
    }
    finishDecision(c, { status: 200 });
    // Constant headers straight into the Response: c.json would build a Headers object per token.
    return new Response(JSON.stringify(response), { headers: Object.keys(headers).length === 0 ? TOKEN_RESPONSE_HEADERS : { ...TOKEN_RESPONSE_HEADERS, ...headers } });
  });
}
