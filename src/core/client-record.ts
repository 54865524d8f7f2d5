/**
 * The client record and the vocabulary of its fields: shared by every layer (the registry stores
 * it, the OAuth rules read it, registration writes it), so it lives below them all.
 */
import type { JWK } from "jose";
import type { AssertionAlg, TokenEndpointAuthMethod } from "./algorithms.js";
import type { FederatedCredential } from "./federation.js";
import type { TokenQuota } from "./quota.js";

/** Which `aud` values a client assertion may carry (SPEC §3 rule 7): the issuer only, or also the endpoint URL. */
export type AudienceMode = "compat" | "strict";

/** Durable Object location hints (applied when an object is first created). */
export const REPLAY_GUARD_LOCATIONS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type ReplayGuardLocation = (typeof REPLAY_GUARD_LOCATIONS)[number];

/** One way of spreading a scope's jtis over objects. */
export interface ReplayTopology {
  readonly shards: number;
  readonly location?: ReplayGuardLocation;
}

/** A topology a client left, still recorded in until `until` (seconds since the epoch). */
export interface PreviousReplayTopology extends ReplayTopology {
  readonly until: number;
}

/** What a client may exchange (SPEC §13). */
export interface TokenExchangePolicy {
  subject_audiences: string[];
  resources: string[];
}

/**
 * What the writer of record keeps of a deleted client (SPEC §10): its replay-guard topologies and
 * when it was deleted (seconds), so a client created under the same client_id inherits them.
 */
export interface DeletedClient {
  readonly replay_guard_shards: number;
  readonly replay_guard_location?: ReplayGuardLocation;
  readonly replay_guard_previous?: readonly PreviousReplayTopology[];
  readonly deleted_at: number;
}

/** The stored client record: RFC 7591 metadata names plus this service's own fields. */
export interface ClientRecord {
  client_id: string;
  client_name?: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  token_endpoint_auth_signing_alg?: AssertionAlg;
  jwks?: { keys: JWK[] };
  jwks_uri?: string;
  /** Allowed scopes, space separated. */
  scope: string;
  grant_types: string[];
  /** Allowed RFC 8707 resource indicators. */
  resources: string[];
  access_token_ttl?: number;
  audience_mode?: AudienceMode;
  dpop_bound_access_tokens: boolean;
  /** May introspect any client's tokens (a resource server), not just its own (RFC 7662 §2.1). */
  introspection_allowed?: boolean;
  disabled: boolean;
  /** Seconds since the epoch. */
  created_at: number;
  updated_at: number;
  /** The client secret sealed by stores/secret-box.ts; absent for private_key_jwt clients. */
  client_secret_sealed?: string;
  /** After a secret rotation: the previous secret, sealed, still accepted until the time below. */
  client_secret_previous_sealed?: string;
  /** Seconds since the epoch at which the previous secret stops authenticating. */
  client_secret_previous_expires_at?: number;
  /**
   * SPEC §13 token exchange (RFC 8693): this client may exchange an access token whose `aud` names
   * one of `subject_audiences` (tokens issued to it as a resource) for a token whose audience is
   * one of `resources`. Absent: no exchange.
   */
  token_exchange?: TokenExchangePolicy;
  /** Workload identities that may authenticate as this client (SPEC §9). */
  federated_credentials?: FederatedCredential[];
  /** SPEC §10: how many replay-guard objects this client's jtis are spread over (set at creation). */
  replay_guard_shards: number;
  /** SPEC §10: the location hint its replay-guard objects are created with. */
  replay_guard_location?: ReplayGuardLocation;
  /** Replay-guard topologies this client left, still recorded in until each one's `until`. */
  replay_guard_previous?: PreviousReplayTopology[];
  /** SPEC §11: at most `limit` tokens per window; absent: no quota. */
  token_quota?: TokenQuota;
}
