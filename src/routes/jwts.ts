/**
 * GET /jwts: the OAuth Toolkit sample-assertion route (SPEC §7). Prints the claim set a client
 * should sign and a ready `curl` for the token endpoint. `SAMPLE_JWT_ROUTE` decides whether it
 * is on (default in local dev), off (default deployed: 404) or behind the admin token.
 *
 * It signs a sample with a client's secret only for a caller who could sign it anyway: the admin
 * token, that client's own id and secret with HTTP Basic, or anyone for local dev's demo client.
 * Everyone else gets the claims and the command that signs them.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/app-types.js";
import { presentsAdminToken, requireAdminToken } from "../http/admin-auth.js";
import { OAuthError } from "../core/errors.js";
import { clientSecretMatches, triedBasicAuth } from "../oauth/client-auth/index.js";
import { clientAuthFailed } from "../oauth/client-auth/failures.js";
import { parseBasicCredentials } from "../oauth/client-auth/presented.js";
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_ASSERTION_TYPE } from "../core/protocol.js";
import { buildSampleAssertion } from "../oauth/sample-assertion.js";
import type { SecretSource } from "../context.js";
import type { ClientRecord } from "../core/client-record.js";
import { OTK_TOKEN_PATH, TOKEN_PATH } from "./token.js";

export const jwtsRoutes = new Hono<AppEnv>();

const NO_STORE = { "Cache-Control": "no-store" };

jwtsRoutes.get(
  "/jwts",
  async (c, next) => {
    const mode = c.get("server").sampleRouteMode;
    if (mode === "off") throw new OAuthError("sample_route_off");
    if (mode === "admin") return requireAdminToken(c, next);
    await next();
  },
  async (c) => {
    const server = c.get("server");
    const authorization = c.req.header("Authorization") ?? null;
    const basic = triedBasicAuth(authorization) ? parseBasicCredentials(authorization!.trim()) : undefined;
    const queried = c.req.query("client_id");
    if (basic !== undefined && queried !== undefined && queried !== basic.clientId) {
      throw new OAuthError("sample_client_id_mismatch");
    }
    const clientId = queried ?? basic?.clientId ?? server.sampleDemoClientId;
    if (clientId === undefined) throw new OAuthError("sample_client_id_missing");
    const client = await server.stores.clients.get(clientId);
    if (basic !== undefined && (client === null || client.disabled)) throw clientAuthFailed("unknown_or_disabled_client");
    if (client === null) throw new OAuthError("sample_client_unknown");
    if (client.disabled) throw new OAuthError("sample_client_disabled");
    const method = client.token_endpoint_auth_method;
    if (method !== "private_key_jwt" && method !== "client_secret_jwt") {
      throw new OAuthError("sample_client_not_jwt", method);
    }

    let secret: string | undefined;
    if (basic !== undefined) {
      if (!(await clientSecretMatches(client, basic.secret, server.secrets, server.clock()))) throw clientAuthFailed("secret_mismatch");
      secret = basic.secret;
    } else if (method === "client_secret_jwt" && (client.client_id === server.sampleDemoClientId || (await presentsAdminToken(c)))) {
      secret = await currentSecret(server.secrets, client);
    }

    const path = c.req.query("token_endpoint") === OTK_TOKEN_PATH ? OTK_TOKEN_PATH : TOKEN_PATH;
    const tokenEndpointUrl = `${server.issuer}${path}`;
    const sample = await buildSampleAssertion(client, method === "client_secret_jwt" ? secret : undefined, {
      issuer: server.issuer,
      tokenEndpointUrl,
      audienceMode: server.settings.audienceMode,
      now: server.clock(),
    });
    const curl = [
      `curl -s -X POST ${shellQuote(tokenEndpointUrl)}`,
      `--data-urlencode ${shellQuote(`grant_type=${CLIENT_CREDENTIALS_GRANT}`)}`,
      `--data-urlencode ${shellQuote(`client_id=${client.client_id}`)}`,
      `--data-urlencode ${shellQuote(`client_assertion_type=${JWT_BEARER_ASSERTION_TYPE}`)}`,
      sample.client_assertion ? `--data-urlencode ${shellQuote(`client_assertion=${sample.client_assertion}`)}` : `--data-urlencode "client_assertion=$CLIENT_ASSERTION"`,
      ...(client.scope ? [`--data-urlencode ${shellQuote(`scope=${client.scope}`)}`] : []),
    ].join(" ");
    const body: Record<string, unknown> = { header: sample.header, claims: sample.claims };
    if (sample.client_assertion) body.client_assertion = sample.client_assertion;
    else body.sign_with = signingCommand(client, sample.header.alg, sample.claims.aud);
    body.curl = curl;
    return c.json(body, 200, NO_STORE);
  },
);

/** The client's current secret in plain text. @throws OAuthError conflict when it was sealed under another CLIENT_SECRET_KEY. */
async function currentSecret(secrets: Pick<SecretSource, "secretBox">, client: ClientRecord): Promise<string | undefined> {
  if (client.client_secret_sealed === undefined) return undefined;
  const box = await secrets.secretBox();
  try {
    return await box.open(client.client_id, client.client_secret_sealed);
  } catch {
    throw new OAuthError("sample_client_secret_unreadable");
  }
}

/** The CLI command that signs the printed claims; the client signs, the server never sees the key. */
function signingCommand(client: ClientRecord, alg: string, aud: string): string {
  const common = `assertion --client-id ${shellQuote(client.client_id)} --alg ${alg} --aud ${shellQuote(aud)}`;
  return client.token_endpoint_auth_method === "private_key_jwt"
    ? `CLIENT_ASSERTION=$(npm run -s cli -- ${common} --key <private-jwk-file>)`
    : `CLIENT_ASSERTION=$(ETS_CLIENT_SECRET="$CLIENT_SECRET" npm run -s cli -- ${common})`;
}

/** POSIX single-quoting: safe for any value, including client ids with quotes or spaces. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
