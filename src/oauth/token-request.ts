/**
 * The token endpoint as a list of named steps (RFC 6749 §3.2, §4.4; SPEC §3, §4; RFC 9449 §5):
 * grant type → authenticate the client → check the DPoP proof → decide scope and audience →
 * consume the assertion's and the proof's jti → mint the access token (DPoP-bound with a proof).
 */
import type { DpopNonceMode } from "../config.js";
import type { FormParams } from "../core/form-params.js";
import { OAuthError } from "../core/errors.js";
import { CLIENT_CREDENTIALS_GRANT, type TokenType } from "../core/protocol.js";
import { clientReplayScope } from "../stores/replay-topology.js";
import type { SigningKeys } from "../stores/signing-keys.js";
import { mintAccessToken } from "./access-token.js";
import { authenticateClient, type ClientAuthDependencies, type ClientAuthSettings } from "./client-auth/index.js";
import { checkTokenRequestDpop, consumeDpopProof, type DpopHttpRequest } from "./dpop.js";
import type { DpopNonces } from "./dpop-nonce.js";
import { decideClientCredentials } from "./grants/client-credentials.js";
import { clientAuthFailed } from "./client-auth/failures.js";

export interface TokenRequestDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
  dpopNonces(): Promise<DpopNonces>;
}

export interface TokenRequestSettings extends ClientAuthSettings {
  readonly accessTokenTtlSeconds: number;
  readonly defaultAudience: string;
  /** DPOP_NONCE: whether DPoP proofs must carry a server nonce (RFC 9449 §8). */
  readonly dpopNonce: DpopNonceMode;
}

/** A request without a DPoP header (callers that do not pass one). */
const NO_DPOP: DpopHttpRequest = { proof: null, method: "POST", url: "" };

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
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
  dpop: DpopHttpRequest = NO_DPOP,
): Promise<TokenResponse> {
  const grantType = form.get("grant_type");
  if (grantType === undefined) throw new OAuthError("grant_type_missing");
  if (grantType !== CLIENT_CREDENTIALS_GRANT) {
    throw new OAuthError("grant_type_unsupported");
  }

  const authenticated = await authenticateClient(form, authorization, deps, settings);
  const { client } = authenticated;
  const nonces = dpop.proof !== null && settings.dpopNonce === "required" ? await deps.dpopNonces() : null;
  const proof = await checkTokenRequestDpop(dpop, client, { now: settings.now, clockSkewSeconds: settings.clockSkewSeconds, nonces });
  const decision = decideClientCredentials(form, client, settings.defaultAudience);
  const keys = await deps.signingKeys();
  // SPEC §9: an access token never outlives the external token it was issued for.
  const ttl = client.access_token_ttl ?? settings.accessTokenTtlSeconds;
  const lifetimeSeconds = authenticated.notAfter === undefined ? ttl : Math.min(ttl, authenticated.notAfter - settings.now);
  if (lifetimeSeconds < 1) throw clientAuthFailed("federated_token_expiring");

  // Both single-use jtis last, in parallel. Should both fail, the client's error is reported, so
  // the answer does not depend on which Durable Object replied first.
  if (proof === null) {
    await authenticated.commit();
  } else {
    const [assertionUse, proofUse] = await Promise.allSettled([
      authenticated.commit(),
      consumeDpopProof(proof, clientReplayScope(client, settings.now), deps.jtiRegistry),
    ]);
    if (assertionUse.status === "rejected") throw assertionUse.reason;
    if (proofUse.status === "rejected") throw proofUse.reason;
  }

  const minted = await mintAccessToken(
    {
      issuer: settings.issuer,
      clientId: client.client_id,
      audience: decision.audience,
      scopes: decision.scopes,
      lifetimeSeconds,
      now: settings.now,
      dpopJkt: proof?.jkt,
    },
    keys,
  );
  if (authenticated.federated !== undefined) {
    // SPEC §9 audit: who the workload was (never the external token or the access token itself).
    const { issuer, subject, credential } = authenticated.federated;
    console.log(JSON.stringify({ audit: "federated_token_issued", client_id: client.client_id, issuer, subject, credential, token_jti: minted.jti, exp: minted.exp }));
  }
  const response: TokenResponse = { access_token: minted.token, token_type: proof === null ? "Bearer" : "DPoP", expires_in: minted.expiresIn };
  if (decision.scopes.length > 0) response.scope = decision.scopes.join(" ");
  return response;
}
