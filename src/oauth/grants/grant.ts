/**
 * What every grant of the token endpoint decides (SPEC §4, §13), so that all of them reach the
 * token through the same last steps (oauth/token-request.ts): the DPoP proof, the single-use jtis
 * committed last, then one mint. A grant checks its own rules and consumes nothing.
 */
import type { ClientRecord } from "../../core/client-record.js";
import type { ActorClaim } from "../access-token.js";
import type { CountedUse, UsageCount } from "../../core/quota.js";

export interface GrantDecision {
  /** The client the token is issued to (its `client_id`). */
  readonly client: ClientRecord;
  /** How that client authenticated, if it did (the JWT bearer grant needs no client authentication). */
  readonly authMethod: ClientRecord["token_endpoint_auth_method"] | "jwt_bearer";
  /** The token's `sub` when it is not the client (token exchange: the subject token's). */
  readonly subject?: string;
  readonly scopes: readonly string[];
  /** The token's `aud`. */
  readonly audience: string;
  /** Seconds since the epoch the token may not outlive (an external token's or a subject token's exp). */
  readonly notAfter?: number;
  /** RFC 8693 §4.1 `act` of an exchanged token. */
  readonly act?: ActorClaim;
  /** Token exchange: the jtis of the tokens this one derives from, nearest first (revoking one ends this). */
  readonly exchangedFrom?: readonly string[];
  /** RFC 9449: the key the request's DPoP proof must use (a DPoP-bound subject token's cnf.jkt). */
  readonly requiredJkt?: string;
  /**
   * Consume the request's single-use jtis (client assertion, federated assertion). Called once,
   * after every check passed, in parallel with the DPoP proof's (oauth/issuance.ts). With `usage`,
   * the token is counted with one of them, in the same step (SPEC §11).
   * @returns the count to undo, or null when nothing was counted (no jti, or no `usage`).
   * @throws OAuthError on replay, 503 when the replay guard is down.
   */
  commit(usage: UsageCount | null, background: (work: Promise<unknown>) => void): Promise<CountedUse | null>;
  /** RFC 8693 §2.2.1 `issued_token_type`, for token exchange answers. */
  readonly issuedTokenType?: string;
}
