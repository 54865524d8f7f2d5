/**
 * mintAccessToken(): JWT access tokens per RFC 9068, signed with the active server key.
 */
import { SignJWT } from "jose";
import type { SigningKeys } from "../stores/signing-keys.js";

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
  readonly expiresIn: number;
}

/** RFC 9068 §2.1 media type of the JWT header `typ`. */
export const ACCESS_TOKEN_TYP = "at+jwt";

export async function mintAccessToken(request: AccessTokenRequest, keys: SigningKeys): Promise<MintedAccessToken> {
  const jti = crypto.randomUUID();
  const claims: Record<string, unknown> = {
    iss: request.issuer,
    sub: request.clientId, // RFC 9068 §2.2: for client_credentials, sub is the client.
    client_id: request.clientId,
    aud: request.audience,
    iat: request.now,
    exp: request.now + request.lifetimeSeconds,
    jti,
  };
  if (request.scopes.length > 0) claims.scope = request.scopes.join(" ");
  if (request.dpopJkt !== undefined) claims.cnf = { jkt: request.dpopJkt };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: keys.active.alg, typ: ACCESS_TOKEN_TYP, kid: keys.active.kid })
    .sign(keys.active.key);
  return { token, jti, expiresIn: request.lifetimeSeconds };
}
