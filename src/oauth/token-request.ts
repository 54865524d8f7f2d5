/**
 * The token endpoint as a list of named steps (RFC 6749 §3.2, §4.4; SPEC §3, §4):
 * grant type → authenticate the client → decide scope and audience → consume the assertion's
 * jti → mint the access token.
 */
import type { FormParams } from "../http/form.js";
import { OAuthError } from "../http/errors.js";
import type { SigningKeys } from "../stores/signing-keys.js";
import { mintAccessToken } from "./access-token.js";
import { authenticateClient, type ClientAuthDependencies, type ClientAuthSettings } from "./client-auth/index.js";
import { decideClientCredentials } from "./grants/client-credentials.js";

export interface TokenRequestDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
}

export interface TokenRequestSettings extends ClientAuthSettings {
  readonly accessTokenTtlSeconds: number;
  readonly defaultAudience: string;
}

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  scope?: string;
}

/**
 * Handle one token request.
 * @throws OAuthError for every RFC 6749 §5.2 error, and 503 when a dependency is down.
 */
export async function handleTokenRequest(
  form: FormParams,
  authorization: string | null,
  deps: TokenRequestDependencies,
  settings: TokenRequestSettings,
): Promise<TokenResponse> {
  const grantType = form.get("grant_type");
  if (grantType === undefined) throw new OAuthError("invalid_request", "grant_type is required", "grant_type_missing");
  if (grantType !== "client_credentials") {
    throw new OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported", "grant_type_unsupported");
  }

  const authenticated = await authenticateClient(form, authorization, deps, settings);
  const { client } = authenticated;
  const decision = decideClientCredentials(form, client, settings.defaultAudience);
  const keys = await deps.signingKeys();
  await authenticated.commit();

  const minted = await mintAccessToken(
    {
      issuer: settings.issuer,
      clientId: client.client_id,
      audience: decision.audience,
      scopes: decision.scopes,
      lifetimeSeconds: client.access_token_ttl ?? settings.accessTokenTtlSeconds,
      now: settings.now,
    },
    keys,
  );
  const response: TokenResponse = { access_token: minted.token, token_type: "Bearer", expires_in: minted.expiresIn };
  if (decision.scopes.length > 0) response.scope = decision.scopes.join(" ");
  return response;
}
