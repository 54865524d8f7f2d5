/**
 * GET /jwts: the OAuth Toolkit sample-assertion route (SPEC §7). Prints the claim set a client
 * should sign and a ready `curl` for the token endpoint. `SAMPLE_JWT_ROUTE` decides whether it
 * is on (default in local dev), off (default deployed: 404) or behind the admin token.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/app-types.js";
import { requireAdminToken } from "../http/admin-auth.js";
import { OAuthError } from "../http/errors.js";
import { DEMO_SECRET_JWT_CLIENT_ID } from "../local-dev.js";
import { JWT_BEARER_ASSERTION_TYPE } from "../oauth/client-auth/presented.js";
import { buildSampleAssertion } from "../oauth/sample-assertion.js";
import { OTK_TOKEN_PATH, TOKEN_PATH } from "./token.js";

export const jwtsRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };

jwtsRoutes.get(
  "/jwts",
  async (c, next) => {
    const mode = c.get("server").sampleRouteMode;
    if (mode === "off") throw new OAuthError("not_found", "the /jwts route is off (SAMPLE_JWT_ROUTE)", "sample_route_off");
    if (mode === "admin") return requireAdminToken(c, next);
    await next();
  },
  async (c) => {
    const server = c.get("server");
    const clientId = c.req.query("client_id") ?? (server.localDev ? DEMO_SECRET_JWT_CLIENT_ID : undefined);
    if (clientId === undefined) throw new OAuthError("invalid_request", "client_id is required", "sample_client_id_missing");
    const client = await server.clients.get(clientId);
    if (client === null) throw new OAuthError("not_found", "no such client", "sample_client_unknown");
    if (client.disabled) throw new OAuthError("invalid_request", "this client is disabled; its assertions would be refused", "sample_client_disabled");
    const method = client.token_endpoint_auth_method;
    if (method !== "private_key_jwt" && method !== "client_secret_jwt") {
      throw new OAuthError("invalid_request", `this client uses ${method}, not a client assertion`, "sample_client_not_jwt");
    }
    const path = c.req.query("token_endpoint") === OTK_TOKEN_PATH ? OTK_TOKEN_PATH : TOKEN_PATH;
    const tokenEndpointUrl = `${server.issuer}${path}`;
    const secret =
      method === "client_secret_jwt" && client.client_secret_sealed
        ? await (await server.secretBox()).open(client.client_id, client.client_secret_sealed)
        : undefined;
    const sample = await buildSampleAssertion(client, secret, {
      issuer: server.issuer,
      tokenEndpointUrl,
      audienceMode: server.settings.audienceMode,
      now: server.clock(),
    });
    const assertionArg = sample.client_assertion ?? "$CLIENT_ASSERTION";
    const curl = [
      `curl -s -X POST ${shellQuote(tokenEndpointUrl)}`,
      `--data-urlencode ${shellQuote("grant_type=client_credentials")}`,
      `--data-urlencode ${shellQuote(`client_id=${client.client_id}`)}`,
      `--data-urlencode ${shellQuote(`client_assertion_type=${JWT_BEARER_ASSERTION_TYPE}`)}`,
      sample.client_assertion ? `--data-urlencode ${shellQuote(`client_assertion=${assertionArg}`)}` : `--data-urlencode "client_assertion=$CLIENT_ASSERTION"`,
      ...(client.scope ? [`--data-urlencode ${shellQuote(`scope=${client.scope}`)}`] : []),
    ].join(" ");
    const body: Record<string, unknown> = { header: sample.header, claims: sample.claims };
    if (sample.client_assertion) body.client_assertion = sample.client_assertion;
    else {
      // The server never holds a private_key_jwt client's private key: the client signs.
      body.sign_with = `CLIENT_ASSERTION=$(npm run -s cli -- assertion --client-id ${shellQuote(client.client_id)} --key <private-jwk-file> --aud ${shellQuote(sample.claims.aud)})`;
    }
    body.curl = curl;
    return c.json(body, 200, NO_STORE);
  },
);

/** POSIX single-quoting: safe for any value, including client ids with quotes or spaces. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
