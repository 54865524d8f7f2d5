/**
 * Where public keys come from: the contracts between the OAuth rules (which keys may verify) and
 * the stores that fetch and cache them (stores/remote-jwks.ts, stores/issuer-keys.ts), wired
 * together in context.ts.
 */
import type { JWK } from "jose";
import type { ClientRecord } from "./client-record.js";
import { OAuthError } from "./errors.js";
import type { TrustedIssuerRecord } from "./federation.js";

/** Where a client's public keys come from. */
export interface ClientKeySource {
  /**
   * The client's public JWKs: its inline `jwks`, or those at its `jwks_uri`.
   * @param refresh the caller found no key for a `kid`: refetch a remote set if allowed.
   * @throws OAuthError invalid_client when a remote set cannot be had.
   */
  keysOf(client: ClientRecord, refresh: boolean): Promise<readonly JWK[]>;
}

/** Keys of inline `jwks` only; a jwks_uri client fails closed. */
export const inlineKeySource: ClientKeySource = {
  async keysOf(client) {
    if (client.jwks) return client.jwks.keys;
    throw new OAuthError("assertion_jwks_unavailable");
  },
};

/** Where trusted issuers' public keys come from (stores/issuer-keys.ts). */
export interface IssuerKeySource {
  /**
   * @param refresh no key matched a `kid`: refetch a remote set if allowed.
   * @throws OAuthError invalid_client when the keys cannot be had.
   */
  keysOf(issuer: TrustedIssuerRecord, refresh: boolean): Promise<readonly JWK[]>;
}
