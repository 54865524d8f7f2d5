/**
 * Registration changes as pure mutations `(current, input, now) → next` (SPEC §6, §9, §10): no
 * binding is touched, so each rule is pinned here on its own; the admin route tests
 * (test/routes/admin*.test.ts) wire them to the API once per family.
 */
import { describe, expect, it } from "vitest";
import { PUBLIC_ADDRESSES } from "../../../src/core/addresses.js";
import type { FederatedCredential, TrustedIssuerRecord } from "../../../src/core/federation.js";
import {
  createdClient,
  deletedClient,
  patchedClient,
  withRotatedSecret,
} from "../../../src/oauth/registration/client-mutations.js";
import { withCredentialAdded, withCredentialRemoved } from "../../../src/oauth/registration/credential-mutations.js";
import type { NewClientInput } from "../../../src/oauth/registration/input.js";
import { MAX_CLIENT_KEYS, withKeyAdded, withKeyRemoved } from "../../../src/oauth/registration/key-mutations.js";
import { createdIssuer, deletedIssuer, patchedIssuer } from "../../../src/oauth/registration/trusted-issuer-mutations.js";
import type { ClientRecord } from "../../../src/core/client-record.js";

const NOW = 1_800_000_000;
const EARLIER = NOW - 3_600;
const RULES = { assertionMaxLifetimeSeconds: 300, clockSkewSeconds: 15 };

/** What the admin API would answer: `error: description`, or "ok". */
function refusal(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    const { error, description } = err as { error?: unknown; description?: unknown };
    if (typeof error !== "string" || typeof description !== "string") throw err;
    return `${error}: ${description}`;
  }
}

const ecKey = (kid: string) => ({ kty: "EC" as const, crv: "P-256" as const, x: "eA", y: "eQ", kid });

function keyClient(fields: Partial<ClientRecord> = {}): ClientRecord {
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

function secretClient(fields: Partial<ClientRecord> = {}): ClientRecord {
  const { jwks: _k, token_endpoint_auth_signing_alg: _a, ...rest } = keyClient();
  return { ...rest, token_endpoint_auth_method: "client_secret_basic", client_secret_sealed: "sealed-1", ...fields };
}

const credential = (name: string): FederatedCredential => ({ name, issuer: "https://issuer.example", subject: "workload" });

describe("createdClient", () => {
  const input: NewClientInput = {
    client_id: "new",
    token_endpoint_auth_method: "client_secret_basic",
    client_name: undefined,
    scope: "read",
    grant_types: ["client_credentials"],
    resources: [],
    dpop_bound_access_tokens: false,
    disabled: false,
    replay_guard_shards: 1,
    client_secret_sealed: "sealed",
  };

  it("is the input with its times and sealed secret, without absent fields", () => {
    const record = createdClient(null, input, NOW, RULES);
    expect(record).toEqual({ ...input, client_name: undefined, created_at: NOW, updated_at: NOW });
    expect("client_name" in record).toBe(false);
  });

  it("where a client with this client_id was deleted, inherits its topologies still in force (SPEC §10)", () => {
    // 450 s: 120 s for a record to reach every isolate + 300 s assertion lifetime + 2 × 15 s skew.
    const deleted = { replay_guard_shards: 4, replay_guard_location: "oc" as const, replay_guard_previous: [{ shards: 2, until: NOW + 5 }, { shards: 8, until: NOW }], deleted_at: NOW - 100 };
    expect(createdClient(null, input, NOW, RULES, deleted).replay_guard_previous).toEqual([{ shards: 2, until: NOW + 5 }, { shards: 4, location: "oc", until: NOW + 350 }]);
    // Deleted longer ago than the transition time: nothing left in force.
    expect(createdClient(null, input, NOW, RULES, { ...deleted, deleted_at: NOW - 450, replay_guard_previous: [] }).replay_guard_previous).toBeUndefined();
    // The new record's own topology is not a previous one.
    expect(createdClient(null, { ...input, replay_guard_shards: 4, replay_guard_location: "oc" }, NOW, RULES, { ...deleted, replay_guard_previous: [] }).replay_guard_previous).toBeUndefined();
  });

  it("refuses a client_id that exists", () => {
    expect(refusal(() => createdClient(secretClient({ client_id: "new" }), input, NOW, RULES))).toBe("conflict: a client with client_id 'new' already exists");
  });
});

describe("patchedClient", () => {
  it("sets given fields, clears null ones, keeps the rest and created_at", () => {
    const next = patchedClient(keyClient({ client_name: "old", access_token_ttl: 600 }), { client_name: "new", access_token_ttl: null }, NOW, RULES);
    expect(next.client_name).toBe("new");
    expect("access_token_ttl" in next).toBe(false);
    expect(next.scope).toBe("read");
    expect([next.created_at, next.updated_at]).toEqual([EARLIER, NOW]);
  });

  it("replaces inline jwks by a jwks_uri and back", () => {
    const toUri = patchedClient(keyClient(), { jwks_uri: "https://keys.example/jwks" }, NOW, RULES);
    expect([toUri.jwks, toUri.jwks_uri]).toEqual([undefined, "https://keys.example/jwks"]);
    const back = patchedClient(toUri, { jwks: { keys: [ecKey("b")] } }, NOW, RULES);
    expect([back.jwks?.keys.map((k) => k.kid), back.jwks_uri]).toEqual([["b"], undefined]);
  });

  it("checks the merged record as a whole", () => {
    expect(refusal(() => patchedClient(keyClient(), { token_endpoint_auth_signing_alg: "HS256" }, NOW, RULES))).toBe(
      "invalid_client_metadata: token_endpoint_auth_signing_alg: private_key_jwt needs an asymmetric algorithm",
    );
    expect(refusal(() => patchedClient(keyClient(), { token_endpoint_auth_signing_alg: "RS256" }, NOW, RULES))).toMatch(/^invalid_client_metadata: jwks: a EC P-256 key cannot verify/);
  });

  it("keeps the replay-guard topology a change leaves (SPEC §10)", () => {
    const next = patchedClient(keyClient({ replay_guard_shards: 1 }), { replay_guard_shards: 4 }, NOW, RULES);
    expect(next.replay_guard_shards).toBe(4);
    expect(next.replay_guard_previous).toEqual([expect.objectContaining({ shards: 1 })]);
  });

  it("is not_found without a record", () => {
    expect(refusal(() => patchedClient(null, {}, NOW, RULES))).toBe("not_found: no client with that client_id");
  });
});

describe("withRotatedSecret", () => {
  it("keeps the old secret for the overlap and drops an older one", () => {
    const current = secretClient({ client_secret_previous_sealed: "sealed-0", client_secret_previous_expires_at: NOW + 10 });
    const next = withRotatedSecret(current, { sealedSecret: "sealed-2", overlapSeconds: 3_600 }, NOW);
    expect([next.client_secret_sealed, next.client_secret_previous_sealed, next.client_secret_previous_expires_at]).toEqual(["sealed-2", "sealed-1", NOW + 3_600]);
  });

  it("ends the old secret at once with overlap 0", () => {
    const next = withRotatedSecret(secretClient({ client_secret_previous_sealed: "sealed-0" }), { sealedSecret: "sealed-2", overlapSeconds: 0 }, NOW);
    expect([next.client_secret_sealed, next.client_secret_previous_sealed, next.client_secret_previous_expires_at]).toEqual(["sealed-2", undefined, undefined]);
  });

  it("refuses a private_key_jwt client, and a missing one", () => {
    expect(refusal(() => withRotatedSecret(keyClient(), { sealedSecret: "s", overlapSeconds: 0 }, NOW))).toBe(
      "invalid_client_metadata: token_endpoint_auth_method: private_key_jwt clients have no secret; rotate their keys instead",
    );
    expect(refusal(() => withRotatedSecret(null, { sealedSecret: "s", overlapSeconds: 0 }, NOW))).toBe("not_found: no client with that client_id");
  });
});

describe("deletedClient", () => {
  it("deletes an existing client; a missing one is not_found", () => {
    expect(deletedClient(keyClient())).toBeNull();
    expect(refusal(() => deletedClient(null))).toBe("not_found: no client with that client_id");
  });
});

describe("withKeyAdded / withKeyRemoved", () => {
  it("adds a key beside the current ones and removes one by kid", () => {
    const added = withKeyAdded(keyClient(), ecKey("b"), NOW);
    expect([added.jwks?.keys.map((k) => k.kid), added.updated_at]).toEqual([["a", "b"], NOW]);
    expect(withKeyRemoved(added, "a", NOW).jwks?.keys.map((k) => k.kid)).toEqual(["b"]);
  });

  it("refuses a taken kid, one key too many, and a key that cannot verify the registered alg", () => {
    expect(refusal(() => withKeyAdded(keyClient(), ecKey("a"), NOW))).toBe('conflict: the client already has a key with kid "a"');
    const full = keyClient({ jwks: { keys: Array.from({ length: MAX_CLIENT_KEYS }, (_, i) => ecKey(`k${i}`)) } });
    expect(refusal(() => withKeyAdded(full, ecKey("b"), NOW))).toBe(`invalid_client_metadata: jwks: a client has at most ${MAX_CLIENT_KEYS} keys; remove one first`);
    expect(refusal(() => withKeyAdded(keyClient(), { kty: "RSA", n: "AQAB", e: "AQAB", kid: "r" }, NOW))).toBe(
      "invalid_client_metadata: jwk: a RSA key cannot verify the client's token_endpoint_auth_signing_alg ES256",
    );
  });

  it("refuses secret and jwks_uri clients", () => {
    expect(refusal(() => withKeyAdded(secretClient(), ecKey("b"), NOW))).toBe(
      "invalid_client_metadata: token_endpoint_auth_method: client_secret_basic clients have no keys; rotate their secret instead",
    );
    const { jwks: _k, ...uriClient } = keyClient({ jwks_uri: "https://keys.example/jwks" });
    expect(refusal(() => withKeyRemoved(uriClient, "a", NOW))).toBe("invalid_client_metadata: jwks_uri: this client publishes its keys at its jwks_uri; change them there");
  });

  it("never removes an unknown kid or the last key", () => {
    expect(refusal(() => withKeyRemoved(keyClient(), "zz", NOW))).toBe("not_found: the client has no key with that kid");
    expect(refusal(() => withKeyRemoved(keyClient(), "a", NOW))).toBe("conflict: this is the client's last key; add its replacement before removing it");
  });
});

describe("withCredentialAdded / withCredentialRemoved", () => {
  it("adds and removes a credential by name", () => {
    const added = withCredentialAdded(keyClient(), credential("ci"), NOW);
    expect(added.federated_credentials?.map((c) => c.name)).toEqual(["ci"]);
    expect("federated_credentials" in withCredentialRemoved(added, "ci", NOW)).toBe(false);
  });

  it("refuses a taken name and secret clients", () => {
    const withOne = withCredentialAdded(keyClient(), credential("ci"), NOW);
    expect(refusal(() => withCredentialAdded(withOne, credential("ci"), NOW))).toBe('conflict: the client already has a federated credential named "ci"');
    expect(refusal(() => withCredentialAdded(secretClient(), credential("ci"), NOW))).toBe(
      "invalid_client_metadata: token_endpoint_auth_method: federated credentials are for private_key_jwt clients only",
    );
  });

  it("never removes a client's last way to authenticate", () => {
    const { jwks: _k, ...keyless } = keyClient({ federated_credentials: [credential("ci")] });
    expect(refusal(() => withCredentialRemoved(keyless, "ci", NOW))).toBe(
      "conflict: this is the client's last way to authenticate; add a key or another credential first",
    );
    expect(refusal(() => withCredentialRemoved(keyless, "other", NOW))).toBe("not_found: the client has no federated credential with that name");
  });
});

describe("trusted issuer mutations", () => {
  const issuer: TrustedIssuerRecord = {
    issuer: "https://issuer.example",
    jwks_uri: "https://issuer.example/jwks",
    allowed_algs: ["RS256"],
    max_token_lifetime: 3_600,
    shared: false,
    jti_policy: "single_use",
    created_at: EARLIER,
    updated_at: EARLIER,
  };

  it("creates once, deletes an existing one", () => {
    expect(createdIssuer(null, issuer)).toBe(issuer);
    expect(refusal(() => createdIssuer(issuer, issuer))).toBe("conflict: this issuer is already trusted; change it with PATCH");
    expect(deletedIssuer(issuer)).toBeNull();
    expect(refusal(() => deletedIssuer(null))).toBe("not_found: no trusted issuer with that issuer identifier");
  });

  it("a new key source replaces the old one; created_at stays", () => {
    const next = patchedIssuer(issuer, { discovery: true }, PUBLIC_ADDRESSES, NOW);
    expect([next.discovery, next.jwks_uri, next.created_at, next.updated_at]).toEqual([true, undefined, EARLIER, NOW]);
  });
});
