/**
 * The token endpoint as a list of named steps (RFC 6749 §3.2, §4.4; SPEC §3, §4, §11, §13; RFC 9449 §5):
 * grant type → the grant's decision (client_credentials: authenticate the client, scope and
 * audience; the JWT bearer grant; token exchange) → check the DPoP proof → the token's lifetime →
 * issue (issuance.ts): consume the request's single-use jtis and the proof's → the client's quota
 * → mint the access token (DPoP-bound with a proof) → count it. Every grant reaches the token
 * through these same last steps, so each gets the quota, the usage count and the audit fields.
 */
import type { DpopNonceMode } from "../config.js";
import type { FormParams } from "../core/form-params.js";
import { OAuthError } from "../core/errors.js";
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT, type TokenType } from "../core/protocol.js";
import { clientReplayScope } from "../stores/replay-topology.js";
import type { SigningKeys } from "../stores/signing-keys.js";
import type { RevokedTokens } from "../stores/revocation-list.js";
import type { JwtBearerClients } from "../stores/jwt-bearer-index.js";
import { mintAccessToken } from "./access-token.js";
import { authenticateClient, type ClientAuthDependencies, type ClientAuthSettings } from "./client-auth/index.js";
import { checkTokenRequestDpop, consumeDpopProof, type DpopHttpRequest } from "./dpop.js";
import type { DpopNonceSource } from "../core/dpop.js";
import { decideClientCredentials } from "./grants/client-credentials.js";
import type { GrantDecision } from "./grants/grant.js";
import { decideJwtBearer } from "./grants/jwt-bearer.js";
import { decideTokenExchange } from "./grants/token-exchange.js";
import { traceClient, type DecisionTrace } from "../core/audit.js";
import type { QuotaCounters } from "../stores/quota-counter.js";
import { issueToken } from "./issuance.js";

export interface TokenRequestDependencies extends ClientAuthDependencies {
  signingKeys(): Promise<SigningKeys>;
  dpopNonces(): Promise<DpopNonceSource>;
  /** Token exchange: whether a subject token (or one it derives from) was revoked. */
  readonly revocations: RevokedTokens;
  /** The JWT bearer grant: which clients may hold a matching credential. */
  readonly jwtBearerClients: JwtBearerClients;
  /** SPEC §11: each client's counter (quota decisions, usage of tokens without a jti). */
  readonly quotaCounters: QuotaCounters;
}

export interface TokenRequestSettings extends ClientAuthSettings {
  readonly accessTokenTtlSeconds: number;
  readonly defaultAudience: string;
  /** DPOP_NONCE: whether DPoP proofs must carry a server nonce (RFC 9449 §8). */
  readonly dpopNonce: DpopNonceMode;
}

/** The grant types of the token endpoint, as `grant_types_supported` lists them (RFC 8414 §2). */
export const SUPPORTED_GRANT_TYPES = [CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT] as const;

/** A request without a DPoP header (callers that do not pass one). */
const NO_DPOP: DpopHttpRequest = { proof: null, method: "POST", url: "" };

/** RFC 6749 §5.1 successful response (RFC 8693 §2.2.1 adds issued_token_type). */
export interface TokenResponse {
  access_token: string;
  issued_token_type?: string;
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
  if (trace !== undefined && (SUPPORTED_GRANT_TYPES as readonly string[]).includes(grantType)) trace.grant_type = grantType;
  const grant = await decideGrant(grantType, form, authorization, deps, settings, trace);
  const { client } = grant;
  // SPEC §11 audit: whose token, how it authenticated, and what it derives from.
  traceClient(trace, client, grant.authMethod);
  if (trace !== undefined) {
    if (grant.subject !== undefined) trace.token_sub = grant.subject;
    if (grant.exchangedFrom !== undefined) trace.subject_token_jti = grant.exchangedFrom[0];
  }

  const nonces = dpop.proof !== null && settings.dpopNonce === "required" ? await deps.dpopNonces() : null;
  const proof = await checkTokenRequestDpop(dpop, client, { now: settings.now, clockSkewSeconds: settings.clockSkewSeconds, nonces });
  // SPEC §13: a DPoP-bound subject token is exchanged only with a proof of its key, and stays bound to it.
  if (grant.requiredJkt !== undefined) {
    if (proof === null) throw new OAuthError("token_exchange_dpop_proof_required");
    if (proof.jkt !== grant.requiredJkt) throw new OAuthError("token_exchange_dpop_key_mismatch");
  }
  const keys = await deps.signingKeys();
  // SPEC §9, §13: an access token never outlives the external or subject token it was issued for.
  const ttl = client.access_token_ttl ?? settings.accessTokenTtlSeconds;
  const lifetimeSeconds = grant.notAfter === undefined ? ttl : Math.min(ttl, grant.notAfter - settings.now);
  if (lifetimeSeconds < 1) throw new OAuthError(grantType === JWT_BEARER_GRANT ? "jwt_bearer_expiring" : "federated_token_expiring");

  // The single-use jtis (the grant's and the proof's, in parallel), the quota, the mint and the
  // usage count: the steps every grant shares (issuance.ts).
  const scope = grant.scopes.length > 0 ? grant.scopes.join(" ") : undefined;
  const issued = await issueToken(
    {
      client,
      now: settings.now,
      commit: (usage, background) => grant.commit(usage, background),
      alsoCommit: proof === null ? undefined : () => consumeDpopProof(proof, clientReplayScope(client, settings.now), deps.jtiRegistry),
      token: { aud: grant.audience, scope },
      mint: () =>
        mintAccessToken(
          {
            issuer: settings.issuer,
            clientId: client.client_id,
            ...(grant.subject !== undefined ? { subject: grant.subject } : {}),
            audience: grant.audience,
            scopes: grant.scopes,
            lifetimeSeconds,
            now: settings.now,
            dpopJkt: proof?.jkt,
            ...(grant.act !== undefined ? { act: grant.act } : {}),
            ...(grant.exchangedFrom !== undefined ? { exchangedFrom: grant.exchangedFrom } : {}),
          },
          keys,
        ),
    },
    { quotaCounters: deps.quotaCounters, background: context.background ?? ignoreBackground },
    trace,
  );
  const response: TokenResponse = { access_token: issued.minted.token, token_type: proof === null ? "Bearer" : "DPoP", expires_in: issued.minted.expiresIn };
  if (grant.issuedTokenType !== undefined) response.issued_token_type = grant.issuedTokenType;
  if (scope !== undefined) response.scope = scope;
  return { response, headers: issued.headers };
}

/** Without a `waitUntil` (direct callers in tests), after-response work runs unobserved. */
function ignoreBackground(work: Promise<unknown>): void {
  void work.catch(() => {});
}

/**
 * The grant's own rules (SPEC §4, §13), each consuming nothing.
 * @throws OAuthError unsupported_grant_type for any other grant, and each grant's errors.
 */
async function decideGrant(
  grantType: string,
  form: FormParams,
  authorization: string | null,
  deps: TokenRequestDependencies,
  settings: TokenRequestSettings,
  trace: DecisionTrace | undefined,
): Promise<GrantDecision> {
  switch (grantType) {
    case CLIENT_CREDENTIALS_GRANT: {
      const authenticated = await authenticateClient(form, authorization, deps, settings, trace);
      const decision = decideClientCredentials(form, authenticated.client, settings.defaultAudience);
      return {
        client: authenticated.client,
        authMethod: authenticated.method,
        scopes: decision.scopes,
        audience: decision.audience,
        ...(authenticated.notAfter !== undefined ? { notAfter: authenticated.notAfter } : {}),
        commit: (usage) => authenticated.commit(usage),
      };
    }
    case JWT_BEARER_GRANT:
      return decideJwtBearer(form, authorization, deps, settings, trace);
    case TOKEN_EXCHANGE_GRANT:
      return decideTokenExchange(form, authorization, deps, settings, trace);
    default:
      throw new OAuthError("grant_type_unsupported");
  }
}
