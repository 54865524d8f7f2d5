/**
 * GET /.well-known/oauth-authorization-server (RFC 8414), GET /.well-known/jwks.json, and the
 * authorization endpoint that only says this server has none to offer.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/app-types.js";
import { OAuthError } from "../core/errors.js";
import { CLIENT_SECRET_JWT_ALGS, PRIVATE_KEY_JWT_ALGS, TOKEN_ENDPOINT_AUTH_METHODS } from "../core/algorithms.js";
import { SUPPORTED_GRANT_TYPES } from "../oauth/token-request.js";
import { INTROSPECTION_PATH } from "./introspect.js";
import { REVOCATION_PATH } from "./revoke.js";
import { TOKEN_PATH } from "./token.js";

export const discoveryRoutes = new Hono<AppEnv>();

/**
 * Published as `authorization_endpoint` although no response type is supported: RFC 8414 §2 lets a
 * client_credentials-only server omit it, but the MCP TypeScript SDK's metadata schema requires it
 * (README, "Choices"). `response_types_supported` stays empty, so no client is told it can work.
 */
export const AUTHORIZATION_PATH = "/oauth2/authorize";

/**
 * Public metadata may be cached briefly; key rotation publishes keys well ahead of use (README). The
 * JWKS max-age is the one the configuration derives (config.ts: 300 s, or with automatic keys at
 * most half the publish-ahead time).
 */
const PUBLIC_CACHE = { "Cache-Control": "public, max-age=300" };
const jwksCache = (maxAgeSeconds: number) => ({ "Cache-Control": `public, max-age=${maxAgeSeconds}` });

discoveryRoutes.get("/.well-known/oauth-authorization-server", async (c) => {
  const { issuer } = c.get("server");
  const keys = await c.get("server").secrets.signingKeys();
  return c.json(
    {
      issuer,
      authorization_endpoint: `${issuer}${AUTHORIZATION_PATH}`,
      token_endpoint: `${issuer}${TOKEN_PATH}`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      // SPEC §4, §13: client_credentials, the JWT bearer grant (RFC 7523 §2.1) and token exchange (RFC 8693).
      grant_types_supported: SUPPORTED_GRANT_TYPES,
      // RFC 8414 §2: required; empty because the authorization endpoint supports no response type.
      response_types_supported: [],
      token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
      token_endpoint_auth_signing_alg_values_supported: [...PRIVATE_KEY_JWT_ALGS, ...CLIENT_SECRET_JWT_ALGS],
      // RFC 7662 / RFC 7009: client authentication exactly as at the token endpoint.
      introspection_endpoint: `${issuer}${INTROSPECTION_PATH}`,
      introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: [...PRIVATE_KEY_JWT_ALGS, ...CLIENT_SECRET_JWT_ALGS],
      revocation_endpoint: `${issuer}${REVOCATION_PATH}`,
      revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
      revocation_endpoint_auth_signing_alg_values_supported: [...PRIVATE_KEY_JWT_ALGS, ...CLIENT_SECRET_JWT_ALGS],
      // RFC 9449 §5.1: DPoP proofs take the same asymmetric algorithms as private_key_jwt.
      dpop_signing_alg_values_supported: PRIVATE_KEY_JWT_ALGS,
      // RFC 9068 access tokens are signed with the active key's algorithm.
      access_token_signing_alg_values_supported: [...new Set([keys.active.alg, ...[...keys.verificationKeys.values()].map((k) => k.alg)])],
    },
    200,
    PUBLIC_CACHE,
  );
});

discoveryRoutes.get("/.well-known/jwks.json", async (c) => {
  const server = c.get("server");
  const keys = await server.secrets.signingKeys();
  return c.json(keys.publicJwks, 200, jwksCache(server.settings.jwksMaxAgeSeconds));
});

// RFC 6749 §4.1.2.1: with no redirect URI registered for anyone, the error is answered here, never
// redirected; GET and POST alike (§3.1), whatever the parameters.
discoveryRoutes.on(["GET", "POST"], AUTHORIZATION_PATH, () => {
  throw new OAuthError("unsupported_response_type");
});
