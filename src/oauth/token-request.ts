/**
 * The token endpoint as a list of named steps (RFC 6749 §3.2, §4.4; SPEC §3, §4, §11; RFC 9449 §5):
 * grant type → authenticate the client → check the DPoP proof → decide scope and audience →
 * issue (issuance.ts): consume the assertion's and the proof's jti → the quota → mint the access
 * token (DPoP-bound with a proof) → count it.
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
import type { DecisionTrace } from "../core/audit.js";
import type { QuotaCounters } from "../stores/quota-counter.js";
import { issueToken } from "./issuance.js";

export interface TokenRequestDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
  dpopNonces(): Promise<DpopNonces>;
  readonly quotaCounters: QuotaCounters;
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

/** Per request: the DPoP header, the audit trace the endpoint fills in, and after-response work. */
export interface TokenRequestContext {
  readonly dpop?: DpopHttpRequest;
  readonly trace?: DecisionTrace;
  /** The Worker's `waitUntil`: work after the response (usage counts, oauth/issuance.ts). */
  readonly background?: (work: Promise<unknown>) => void;
}

/** The answer and the headers it carries beyond no-store (`RateLimit…` of a quota'd client). */
export interface TokenRequestResult {
  readonly response: TokenResponse;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Handle one token request.
 * @throws OAuthError for every RFC 6749 §5.2 error, 429 over an enforced quota, and 503 when a dependency is down.
 */
export async function handleTokenRequest(
  form: FormParams,
  authorization: string | null,
  deps: TokenRequestDependencies,
  settings: TokenRequestSettings,
  context: TokenRequestContext = {},
): Promise<TokenRequestResult> {
  const { dpop = NO_DPOP, trace } = context;
  const grantType = form.get("grant_type");
  if (grantType === undefined) throw new OAuthError("grant_type_missing");
  if (grantType !== CLIENT_CREDENTIALS_GRANT) {
    throw new OAuthError("grant_type_unsupported");
  }
  if (trace !== undefined) trace.grant_type = grantType;

  const authenticated = await authenticateClient(form, authorization, deps, settings, trace);
  const { client } = authenticated;
  // SPEC §11 audit: a quota'd client's refusal before the counter says so.
  if (trace !== undefined && client.token_quota !== undefined) trace.quota = "not_reached";
  const nonces = dpop.proof !== null && settings.dpopNonce === "required" ? await deps.dpopNonces() : null;
  const proof = await checkTokenRequestDpop(dpop, client, { now: settings.now, clockSkewSeconds: settings.clockSkewSeconds, nonces });
  const decision = decideClientCredentials(form, client, settings.defaultAudience);
  const keys = await deps.signingKeys();
  // SPEC §9: an access token never outlives the external token it was issued for.
  const ttl = client.access_token_ttl ?? settings.accessTokenTtlSeconds;
  const lifetimeSeconds = authenticated.notAfter === undefined ? ttl : Math.min(ttl, authenticated.notAfter - settings.now);
  if (lifetimeSeconds < 1) throw clientAuthFailed("federated_token_expiring");

  // The single-use jtis (the assertion's and the proof's, in parallel), the quota, the mint and
  // the usage count: the steps every grant shares (issuance.ts).
  const scope = decision.scopes.length > 0 ? decision.scopes.join(" ") : undefined;
  const issued = await issueToken(
    {
      client,
      now: settings.now,
      commit: (usage) => authenticated.commit(usage),
      alsoCommit: proof === null ? undefined : () => consumeDpopProof(proof, clientReplayScope(client, settings.now), deps.jtiRegistry),
      token: { aud: decision.audience, scope, lifetimeSeconds },
      mint: () =>
        mintAccessToken(
          { issuer: settings.issuer, clientId: client.client_id, audience: decision.audience, scopes: decision.scopes, lifetimeSeconds, now: settings.now, dpopJkt: proof?.jkt },
          keys,
        ),
    },
    { quotaCounters: deps.quotaCounters, background: context.background ?? ignoreBackground },
    trace,
  );
  const response: TokenResponse = { access_token: issued.minted.token, token_type: proof === null ? "Bearer" : "DPoP", expires_in: issued.minted.expiresIn };
  if (scope !== undefined) response.scope = scope;
  return { response, headers: issued.headers };
}

/** Without a `waitUntil` (direct callers in tests), after-response work runs unobserved. */
function ignoreBackground(work: Promise<unknown>): void {
  void work.catch(() => {});
}
