/**
 * Registration changes as pure mutations `(current, input, now) → next` (SPEC §6, §9, §10): no
 * binding is touched, so each rule is pinned here on its own (keys, credentials and trusted issuers
 * beside this file); the admin route tests (test/routes/admin/, test/routes/admin-federation/)
 * wire them to the API once per family.
 */
import { describe, expect, it } from "vitest";
import {
  createdClient,
  deletedClient,
  patchedClient,
  withRotatedSecret,
} from "../../../src/oauth/registration/client-mutations.js";
import type { NewClientInput } from "../../../src/oauth/registration/input.js";
import { EARLIER, ecKey, keyClient, NOW, refusal, secretClient } from "../../support/registration-records.js";

const RULES = { assertionMaxLifetimeSeconds: 300, clockSkewSeconds: 15 };

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
