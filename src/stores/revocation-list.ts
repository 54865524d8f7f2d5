/**
 * Revoked access tokens (RFC 7009), worldwide and at once: the `jti` of every revoked token is kept
 * in a SQLite-backed Durable Object until the token's own `exp`, after which the token is dead
 * anyway and an alarm purges the row. Introspection (RFC 7662) asks here before it reports a token
 * active, and fails closed (503) when it cannot ask.
 *
 * The jti space is sharded over REVOCATION_LIST_SHARDS objects by a hash of the jti, with the same
 * storage and shard code as the replay guard (expiring-keys.ts, shards.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { ExpiringKeys } from "./expiring-keys.js";
import { callShard, type ShardSet } from "./shards.js";

/**
 * Number of RevocationList objects. Fixed, not a setting: the object names hold the state, so a
 * different count would "forget" live revocations until their tokens expire; changing it needs a
 * double read (old and new layout) for the longest access token lifetime first. One global pool,
 * not per client as the replay guard (SPEC §10): revocations are rare, and the introspecting
 * resource servers that read the list are not the client the token belongs to, so no placement
 * is near all of them; a layout that never changes needs no transition.
 */
export const REVOCATION_LIST_SHARDS = 16;

export class RevocationList extends DurableObject<Env> {
  readonly #revoked: ExpiringKeys;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#revoked = new ExpiringKeys(ctx, "revoked");
    void ctx.blockConcurrencyWhile(() => this.#revoked.open());
  }

  /** RPC: record `jti` as revoked until `expiresAt` (seconds). Revoking twice is a no-op. */
  async revoke(jti: string, expiresAt: number): Promise<void> {
    this.#revoked.add(jti, expiresAt);
  }

  /** RPC: whether `jti` has been revoked. */
  async isRevoked(jti: string): Promise<boolean> {
    return this.#revoked.has(jti);
  }

  override async alarm(): Promise<void> {
    this.#revoked.purge();
  }
}

/** What the OAuth layer needs from the revocation list. */
export interface RevokedTokens {
  /**
   * Revoke the access token `jti` until its `exp` (seconds).
   * @throws OAuthError 503 `temporarily_unavailable` when the list cannot be reached in time.
   */
  revoke(jti: string, exp: number): Promise<void>;
  /**
   * Whether the access token `jti` has been revoked.
   * @throws OAuthError 503 `temporarily_unavailable` when the list cannot be reached in time.
   */
  isRevoked(jti: string): Promise<boolean>;
}

/** RevokedTokens over the `REVOCATION_LIST` namespace. */
export function revocationList(namespace: DurableObjectNamespace<RevocationList>): RevokedTokens {
  const shards: ShardSet<RevocationList> = {
    namespace,
    prefix: "revocation-list",
    count: REVOCATION_LIST_SHARDS,
    unavailable: "revocation_list_unavailable",
  };
  return {
    revoke: (jti, exp) => callShard(shards, jti, (stub) => stub.revoke(jti, exp)),
    isRevoked: (jti) => callShard(shards, jti, (stub) => stub.isRevoked(jti)),
  };
}
