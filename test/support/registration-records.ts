/**
 * Records and a refusal reader for the registration mutations' unit tests
 * (test/oauth/registration/): pure values, no binding touched.
 */
import type { ClientRecord } from "../../src/core/client-record.js";
import type { FederatedCredential } from "../../src/core/federation.js";

export const NOW = 1_800_000_000;
export const EARLIER = NOW - 3_600;

/** What the admin API would answer: `error: description`, or "ok". */
export function refusal(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    const { error, description } = err as { error?: unknown; description?: unknown };
    if (typeof error !== "string" || typeof description !== "string") throw err;
    return `${error}: ${description}`;
  }
}

export const ecKey = (kid: string) => ({ kty: "EC" as const, crv: "P-256" as const, x: "eA", y: "eQ", kid });

export function keyClient(fields: Partial<ClientRecord> = {}): ClientRecord {
  return {
    client_id: "c1",
    token_endpoint_auth_method: "private_key_jwt",
    replay_guard_shards: 1,
    token_endpoint_auth_signing_alg: "ES256",
    jwks: { keys: [ecKey("a")] },
    scope: "read",
    grant_types: ["client_credentials"],
    resources: [],
    dpop_bound_access_tokens: false,
    disabled: false,
    created_at: EARLIER,
    updated_at: EARLIER,
    ...fields,
  };
}

export function secretClient(fields: Partial<ClientRecord> = {}): ClientRecord {
  const { jwks: _k, token_endpoint_auth_signing_alg: _a, ...rest } = keyClient();
  return { ...rest, token_endpoint_auth_method: "client_secret_basic", client_secret_sealed: "sealed-1", ...fields };
}

export const credential = (name: string): FederatedCredential => ({ name, issuer: "https://issuer.example", subject: "workload" });
