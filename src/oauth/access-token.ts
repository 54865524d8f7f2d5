/**
 * mintAccessToken(): JWT access tokens per RFC 9068, signed with the active server key; and
 * verifyAccessToken(): whether a token is one of ours and live, for introspection and revocation.
 */
import { CompactSign, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { SigningKeys } from "../stores/signing-keys.js";
import { ACCESS_TOKEN_TYP } from "../core/protocol.js";
import { actorDepth, MAX_ACT_DEPTH } from "../core/actor-chain.js";

/** RFC 8693 §4.1: the actor of an exchanged token, and the actor before it nested inside. */
export interface ActorClaim {
  readonly sub: string;
  readonly act?: ActorClaim;
}


export interface AccessTokenRequest {
  readonly issuer: string;
  readonly clientId: string;
  /** The token's `sub` when it is not the client (token exchange: the subject token's). */
  readonly subject?: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly lifetimeSeconds: number;
  readonly now: number;
  /** RFC 9449 §6: the JWK SHA-256 thumbprint of the DPoP key, when the token is bound. */
  readonly dpopJkt?: string;
  /** RFC 8693 §4.1 `act` of an exchanged token. */
  readonly act?: ActorClaim;
  /** SPEC §13: jtis of the tokens this one was exchanged from, nearest first (`exchanged_from`). */
  readonly exchangedFrom?: readonly string[];
}

export interface MintedAccessToken {
  readonly token: string;
  readonly jti: string;
  /** The token's lifetime: the one asked for, or shorter when the signing keys cap it. */
  readonly expiresIn: number;
  readonly exp: number;
}

const claimsEncoder = new TextEncoder();

/**
 * Sign an access token with the active key. Its lifetime is the one asked for, capped by the keys
 * (SPEC §12: with automatic keys no token outlives its key's publication, RETAIN − CLOCK_SKEW).
 */
export async function mintAccessToken(request: AccessTokenRequest, keys: SigningKeys): Promise<MintedAccessToken> {
  const jti = crypto.randomUUID();
  const lifetimeSeconds = Math.min(request.lifetimeSeconds, keys.maxTokenLifetimeSeconds ?? Infinity);
  const claims: Record<string, unknown> = {
    iss: request.issuer,
    // RFC 9068 §2.2: for client_credentials, sub is the client; RFC 8693 §2.1: the subject's when exchanged.
    sub: request.subject ?? request.clientId,
    client_id: request.clientId,
    aud: request.audience,
    iat: request.now,
    exp: request.now + lifetimeSeconds,
    jti,
  };
  if (request.scopes.length > 0) claims.scope = request.scopes.join(" ");
  if (request.dpopJkt !== undefined) claims.cnf = { jkt: request.dpopJkt };
  if (request.act !== undefined) claims.act = request.act;
  // Introspection checks each of these against the revocation list: revoking a subject token ends its derivatives.
  if (request.exchangedFrom !== undefined) claims.exchanged_from = request.exchangedFrom;
  // CompactSign over our own JSON: the claims are built here, so SignJWT's claims builder and
  // checks would be work done twice on the hot path.
  const token = await new CompactSign(claimsEncoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: keys.active.alg, typ: ACCESS_TOKEN_TYP, kid: keys.active.kid })
    .sign(keys.active.key);
  return { token, jti, expiresIn: lifetimeSeconds, exp: request.now + lifetimeSeconds };
}

/** The claims of a verified access token of this server. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly client_id: string;
  readonly aud: string | string[];
  readonly scope?: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** RFC 9449 §6.1: present on DPoP-bound tokens. */
  readonly cnf?: { readonly jkt: string };
  /** RFC 8693 §4.1: present on exchanged tokens. */
  readonly act?: ActorClaim;
  /** SPEC §13: present on exchanged tokens, the jtis of the tokens it derives from. */
  readonly exchanged_from?: readonly string[];
}

/** Why a token is not a live access token of this server. */
export type AccessTokenProblem = "expired" | "invalid";

/**
 * Whether `token` is a live access token of this server (revocation aside): a JWS with
 * `typ: at+jwt` (RFC 9068 §4), signed by a published key chosen by `kid` with that key's `alg`,
 * `iss` our issuer, `exp` after `now` (no skew: we wrote it with our own clock), and the claims
 * RFC 9068 §2.2 requires.
 * @returns the claims, or null for anything else. Never throws for a bad token.
 */
export async function verifyAccessToken(token: string, keys: SigningKeys, issuer: string, now: number): Promise<AccessTokenClaims | null> {
  const read = await readAccessToken(token, keys, issuer, now);
  return read.ok ? read.claims : null;
}

/**
 * verifyAccessToken, saying why a token is refused (token exchange names each reason, SPEC §13).
 * Never throws for a bad token.
 */
export async function readAccessToken(
  token: string,
  keys: SigningKeys,
  issuer: string,
  now: number,
): Promise<{ readonly ok: true; readonly claims: AccessTokenClaims } | { readonly ok: false; readonly problem: AccessTokenProblem }> {
  const ourKey: JWTVerifyGetKey = (header) => {
    const entry = header.kid === undefined ? undefined : keys.verificationKeys.get(header.kid);
    if (entry === undefined || entry.alg !== header.alg) throw new Error("not signed by a key of this server");
    return entry.key;
  };
  const invalid = { ok: false, problem: "invalid" } as const;
  try {
    const { payload } = await jwtVerify(token, ourKey, {
      issuer,
      typ: ACCESS_TOKEN_TYP,
      currentDate: new Date(now * 1000),
      requiredClaims: ["sub", "client_id", "aud", "iat", "exp", "jti"],
    });
    const { client_id: clientId, jti, cnf } = payload;
    if (typeof clientId !== "string" || typeof jti !== "string" || typeof payload.sub !== "string") return invalid;
    // Only this server signs these, but the rules that read them (token exchange) trust their shapes.
    const { aud, scope } = payload;
    if (!(typeof aud === "string" || (Array.isArray(aud) && aud.every((a) => typeof a === "string")))) return invalid;
    if (scope !== undefined && typeof scope !== "string") return invalid;
    if (cnf !== undefined && (typeof cnf !== "object" || cnf === null || typeof (cnf as { jkt?: unknown }).jkt !== "string")) return invalid;
    if (payload.act !== undefined && actorDepth(payload.act) === undefined) return invalid;
    const from = payload.exchanged_from;
    if (from !== undefined && !(Array.isArray(from) && from.length <= MAX_ACT_DEPTH && from.every((j) => typeof j === "string"))) return invalid;
    return { ok: true, claims: payload as unknown as AccessTokenClaims };
  } catch (err) {
    return err instanceof errors.JWTExpired ? { ok: false, problem: "expired" } : invalid;
  }
}

/**
 * The jtis whose revocation ends `claims`: its own, and those of the tokens it was exchanged from
 * (SPEC §13: revoking a subject token does not leave its derivatives alive).
 */
export function revocationLineage(claims: Pick<AccessTokenClaims, "jti" | "exchanged_from">): string[] {
  return [claims.jti, ...(claims.exchanged_from ?? [])];
}

/** Whether any jti of the lineage is revoked (asked in parallel). @throws OAuthError 503 when the list is down. */
export async function lineageRevoked(claims: Pick<AccessTokenClaims, "jti" | "exchanged_from">, revocations: { isRevoked(jti: string): Promise<boolean> }): Promise<boolean> {
  return (await Promise.all(revocationLineage(claims).map((jti) => revocations.isRevoked(jti)))).includes(true);
}

