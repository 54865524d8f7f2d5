/**
 * Federated client authentication (SPEC §9): a client assertion issued to a workload by a trusted
 * external issuer (GitHub Actions, GitLab CI, Kubernetes, SPIFFE, any OIDC issuer), checked
 * against the client's federated credentials for that issuer. In order: find the trusted issuer by
 * `iss` (a JWT-SVID without `iss` by its sub's trust domain; never an access token, never this
 * server's own issuer) → assertion type → alg allowed for the issuer → key by `kid` → signature →
 * issuer rules (iss, exp, iat, nbf, lifetime cap, jti policy) → the client's credentials for it →
 * each credential's rules (aud, sub / pattern, pinned claims). Whether the client has a credential
 * for the issuer is told only to a token the issuer signed. The single-use `jti` is consumed by the
 * caller, last (client-auth/index.ts).
 *
 * `evaluateFederatedAssertion` answers for every credential (the explain endpoint uses it);
 * `verifyFederatedAssertion` turns that into a match or the rule that failed.
 */
import { credentialAllows, type FederatedCredential, type TrustedIssuerRecord } from "../../core/federation.js";
import { OAuthError } from "../../core/errors.js";
import type { ClientRecord } from "../../core/client-record.js";
import type { IssuerKeySource } from "../../core/key-sources.js";
import type { TrustedIssuers } from "../../stores/trusted-issuers.js";
import { isAsymmetricAlg } from "../../core/algorithms.js";
import type { ParsedAssertion } from "../client-auth/assertion.js";
import { clientAuthFailed } from "../client-auth/failures.js";
import { matchingKeys } from "../client-auth/keys.js";
import { verifyCompactJws } from "../jws.js";
import { checkCredentialClaims, checkIssuerClaims, type CheckedFederatedToken, type FederatedClaimRules } from "./federated-claims.js";
import { issuerAudiences } from "../../core/protocol.js";
import { isOwnIssuer } from "./issuer-kinds.js";
import { isSpiffeIssuer } from "./trusted-issuer-metadata.js";

export interface FederationDependencies {
  readonly trustedIssuers: TrustedIssuers;
  readonly issuerKeys: IssuerKeySource;
}

export interface FederationSettings extends FederatedClaimRules {
  /** This server's issuer identifier: a credential's default audience. */
  readonly issuer: string;
  /** The request used `…:jwt-spiffe` (allowed only for a SPIFFE issuer's JWT-SVID). */
  readonly spiffeAssertionType: boolean;
}

export interface CredentialOutcome {
  readonly credential: FederatedCredential;
  /** Why it does not match; undefined when it matches. */
  readonly failure?: OAuthError;
}

export interface FederatedEvaluation {
  readonly issuer?: TrustedIssuerRecord;
  /** A failure before any credential could be tried (unknown issuer, signature, exp…). */
  readonly failure?: OAuthError;
  readonly credentials: readonly CredentialOutcome[];
  readonly token?: CheckedFederatedToken;
}

/** A federated assertion that matched one credential. */
export interface VerifiedFederatedAssertion {
  readonly issuer: TrustedIssuerRecord;
  readonly credential: FederatedCredential;
  readonly token: CheckedFederatedToken;
}

/** Which issuer a token names: its `iss`, or for a JWT-SVID without one, its sub's trust domain. */
export function issuerOf(claims: Record<string, unknown> | undefined): string | undefined {
  if (typeof claims?.iss === "string") return claims.iss;
  const sub = claims?.sub;
  if (claims?.iss === undefined && typeof sub === "string" && sub.startsWith("spiffe://")) return /^spiffe:\/\/[^/]+/.exec(sub)?.[0];
  return undefined;
}

/** A token whose issuer-level rules passed: its trusted issuer, its verified claims, and what they yield. */
export interface VerifiedIssuerToken {
  readonly issuer: TrustedIssuerRecord;
  readonly claims: Record<string, unknown>;
  readonly token: CheckedFederatedToken;
}

/**
 * The half of SPEC §9 every credential shares: the trusted issuer found by `iss` → alg allowed, key,
 * signature → the issuer's claim rules. Used by client authentication (below) and by the JWT
 * bearer grant (grants/jwt-bearer.ts), which then tries the credentials of every client.
 * @param issuer the trusted issuer when the caller already looked it up.
 * @throws OAuthError invalid_client naming the rule that failed (federated_issuer_unknown when no
 *   trusted issuer has the token's iss), 503 when a store is down.
 */
export async function verifyIssuerToken(parsed: ParsedAssertion, deps: FederationDependencies, rules: FederatedClaimRules, issuer?: TrustedIssuerRecord | null): Promise<VerifiedIssuerToken> {
  const trusted = issuer === undefined ? await findTrustedIssuer(parsed, deps) : issuer;
  if (trusted === null) throw clientAuthFailed("federated_issuer_unknown");
  const claims = await verifySignature(parsed, trusted, deps.issuerKeys);
  return { issuer: trusted, claims, token: checkIssuerClaims(claims, trusted, rules) };
}

/**
 * SPEC §9, no self-trust: why `parsed` can never be a federated assertion here, whoever is trusted:
 * it is typed as an access token (RFC 9068 §2.1 `typ` `at+jwt`, any case, with or without
 * `application/`), or its issuer is this server (`serverIssuer`, any URL of its origin).
 * Client authentication and the JWT bearer grant both ask, each with its own reasons.
 */
export function selfTrustProblem(parsed: ParsedAssertion, serverIssuer: string): "access_token_typ" | "issuer_self" | undefined {
  const typ = parsed.header.typ;
  if (typeof typ === "string" && /^(application\/)?at\+jwt$/i.test(typ)) return "access_token_typ";
  const iss = issuerOf(parsed.unverifiedClaims);
  return iss !== undefined && isOwnIssuer(iss, serverIssuer) ? "issuer_self" : undefined;
}

/** The trusted issuer the token names (its `iss`, or a JWT-SVID's trust domain), or null. */
export async function findTrustedIssuer(parsed: ParsedAssertion, deps: FederationDependencies): Promise<TrustedIssuerRecord | null> {
  const iss = issuerOf(parsed.unverifiedClaims);
  return iss === undefined || iss.length > 400 ? null : deps.trustedIssuers.get(iss);
}

/**
 * The `aud` values a credential accepts: its audience, by default this server's issuer identifier,
 * which also counts with one trailing `/` (RFC 3986 §6.2.3: an empty path and "/" are one
 * resource; Python MCP clients send the issuer that way). README "Choices".
 */
export function credentialAudiences(credential: FederatedCredential, serverIssuer: string): string[] {
  const audience = credential.audience ?? serverIssuer;
  return audience === serverIssuer ? issuerAudiences(serverIssuer) : [audience];
}

/** Evaluate `parsed` against every federated credential of `client`, consuming nothing. */
export async function evaluateFederatedAssertion(
  parsed: ParsedAssertion,
  client: ClientRecord,
  deps: FederationDependencies,
  settings: FederationSettings,
): Promise<FederatedEvaluation> {
  const all = client.federated_credentials ?? [];
  const iss = issuerOf(parsed.unverifiedClaims);
  const otherIssuer = (c: FederatedCredential) => c.issuer !== iss;
  const others = all.filter(otherIssuer).map((credential) => ({ credential, failure: clientAuthFailed("federated_credential_other_issuer") }));
  const mine = all.filter((c) => !otherIssuer(c));
  const failAll = (failure: OAuthError, issuer?: TrustedIssuerRecord): FederatedEvaluation => ({
    ...(issuer ? { issuer } : {}),
    failure,
    credentials: [...mine.map((credential) => ({ credential, failure })), ...others],
  });

  // SPEC §9: an access token is never a client assertion, and this server never trusts itself:
  // client A's access token must not authenticate as client B, whatever the trusted issuer store holds.
  const selfTrust = selfTrustProblem(parsed, settings.issuer);
  if (selfTrust !== undefined) return failAll(clientAuthFailed(selfTrust === "access_token_typ" ? "federated_access_token_typ" : "federated_issuer_self"));
  const issuer = await findTrustedIssuer(parsed, deps);
  if (issuer === null) return failAll(clientAuthFailed("federated_issuer_unknown"));
  try {
    if (settings.spiffeAssertionType && !isSpiffeIssuer(issuer)) throw clientAuthFailed("federated_spiffe_type_mismatch");
    // The issuer's keys and its own rules first: which credentials the client has is told only to a token it signed.
    const { claims, token } = await verifyIssuerToken(parsed, deps, settings, issuer);
    if (mine.length === 0) return failAll(clientAuthFailed("federated_no_credential"), issuer);
    const credentials = mine.map((credential): CredentialOutcome => {
      // SPEC §13: a credential whose grants omit client_assertion serves the JWT bearer grant only.
      if (!credentialAllows(credential, "client_assertion")) return { credential, failure: new OAuthError("federated_credential_grant_not_allowed") };
      try {
        checkCredentialClaims(claims, credential, credentialAudiences(credential, settings.issuer));
        return { credential };
      } catch (err) {
        if (err instanceof OAuthError) return { credential, failure: err };
        throw err;
      }
    });
    return { issuer, token, credentials: [...credentials, ...others] };
  } catch (err) {
    if (err instanceof OAuthError && err.error === "invalid_client") return failAll(err, issuer);
    throw err;
  }
}

/**
 * The credential `parsed` matches.
 * @throws OAuthError invalid_client naming the rule that failed: for a single credential of the
 *   issuer its own rule, for several "no credential matched" (explain tells which rule each broke).
 */
export async function verifyFederatedAssertion(
  parsed: ParsedAssertion,
  client: ClientRecord,
  deps: FederationDependencies,
  settings: FederationSettings,
): Promise<VerifiedFederatedAssertion> {
  const evaluation = await evaluateFederatedAssertion(parsed, client, deps, settings);
  if (evaluation.failure) throw evaluation.failure;
  const candidates = evaluation.credentials.filter((c) => c.failure?.reason !== "federated_credential_other_issuer");
  const match = candidates.find((c) => c.failure === undefined);
  if (match) return { issuer: evaluation.issuer!, credential: match.credential, token: evaluation.token! };
  throw candidates.length === 1 ? candidates[0]!.failure! : clientAuthFailed("federated_no_credential_matched");
}


/** alg allowed for the issuer, no crit, the issuer's key by kid, the signature: then the claims are trusted. */
async function verifySignature(parsed: ParsedAssertion, issuer: TrustedIssuerRecord, keySource: IssuerKeySource): Promise<Record<string, unknown>> {
  const { alg, kid, crit } = parsed.header;
  if (!isAsymmetricAlg(alg) || !(issuer.allowed_algs as readonly string[]).includes(alg)) throw clientAuthFailed("federated_alg_not_allowed");
  // RFC 7515 §4.1.11: no crit extension is implemented.
  if (crit !== undefined) throw clientAuthFailed("assertion_crit_unsupported");
  let candidates = matchingKeys(await keySource.keysOf(issuer, false), alg, kid);
  if (candidates.length === 0 && issuer.jwks === undefined) candidates = matchingKeys(await keySource.keysOf(issuer, true), alg, kid);
  // Without a kid, several keys of the issuer may fit: the signature picks one (at most 10 tried).
  if (candidates.length === 0) throw clientAuthFailed("federated_key_not_found");
  const result = await verifyCompactJws(parsed.compact, alg, candidates.slice(0, 10));
  if (result.ok) return result.claims;
  throw clientAuthFailed(result.problem === "payload_invalid" ? "assertion_payload_invalid" : "federated_signature_invalid");
}
