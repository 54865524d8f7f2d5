/**
 * mintAccessToken(): JWT access tokens per RFC 9068, signed with the active server key; and
 * verifyAccessToken(): whether a token is one of ours and live, for introspection and revocation.
 */
import { CompactSign, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { SigningKeys } from "../stores/signing-keys.js";
import { ACCESS_TOKEN_TYP } from "../core/protocol.js";

export interface AccessTokenRequest {
  readonly issuer: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly lifetimeSeconds: number;
  readonly now: number;
  /** RFC 9449 §6: the JWK SHA-256 thumbprint of the DPoP key, when the token is bound. */
  readonly dpopJkt?: string;
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
    sub: request.clientId, // RFC 9068 §2.2: for client_credentials, sub is the client.
    client_id: request.clientId,
    aud: request.audience,
    iat: request.now,
    exp: request.now + lifetimeSeconds,
    jti,
  };
  if (request.scopes.length > 0) claims.scope = request.scopes.join(" ");
  if (request.dpopJkt !== undefined) claims.cnf = { jkt: request.dpopJkt };
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
}

/**
 * Whether `token` is a live access token of this server (revocation aside): a JWS with
 * `typ: at+jwt` (RFC 9068 §4), signed by a published key chosen by `kid` with that key's `alg`,
 * `iss` our issuer, `exp` after `now` (no skew: we wrote it with our own clock), and the claims
 * RFC 9068 §2.2 requires.
 * @returns the claims, or null for anything else. Never throws for a bad token.
 */
export async function verifyAccessToken(token: string, keys: SigningKeys, issuer: string, now: number): Promise<AccessTokenClaims | null> {
  const ourKey: JWTVerifyGetKey = (header) => {
    const entry = header.kid === undefined ? undefined : keys.verificationKeys.get(header.kid);
    if (entry === undefined || entry.alg !== header.alg) throw new Error("not signed by a key of this server");
    return entry.key;
  };
  try {
    const { payload } = await jwtVerify(token, ourKey, {
      issuer,
      typ: ACCESS_TOKEN_TYP,
      currentDate: new Date(now * 1000),
      requiredClaims: ["sub", "client_id", "aud", "iat", "exp", "jti"],
    });
    const { client_id: clientId, jti, cnf } = payload;
    if (typeof clientId !== "string" || typeof jti !== "string" || typeof payload.sub !== "string") return null;
    if (cnf !== undefined && (typeof cnf !== "object" || cnf === null || typeof (cnf as { jkt?: unknown }).jkt !== "string")) return null;
    return payload as unknown as AccessTokenClaims;
  } catch {
    return null;
  }
}
