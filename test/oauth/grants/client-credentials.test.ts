/**
 * decideClientCredentials (SPEC §4): scope and audience of the token.
 */
import { describe, expect, it } from "vitest";
import { decideClientCredentials } from "../../../src/oauth/grants/client-credentials.js";
import type { ClientRecord } from "../../../src/core/client-record.js";
import { outcome } from "../reason.js";

const ISSUER = "https://issuer.test";
const client = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  client_id: "c",
  token_endpoint_auth_method: "private_key_jwt",
  replay_guard_shards: 1,
  scope: "read write admin:metrics",
  grant_types: ["client_credentials"],
  resources: ["https://api.example/v1", "urn:example:ledger"],
  dpop_bound_access_tokens: false,
  disabled: false,
  created_at: 0,
  updated_at: 0,
  ...overrides,
});
const decide = (params: Record<string, string>, record = client()) => decideClientCredentials(new Map(Object.entries(params)), record, ISSUER);
const fails = (params: Record<string, string>, record = client()) => outcome(() => decide(params, record));

describe("scope", () => {
  it("omitted: all registered scopes", () => {
    expect(decide({}).scopes).toEqual(["read", "write", "admin:metrics"]);
    expect(decide({}, client({ scope: "" })).scopes).toEqual([]);
  });

  it("a subset, deduplicated", () => {
    expect(decide({ scope: "write" }).scopes).toEqual(["write"]);
    expect(decide({ scope: "write read write" }).scopes).toEqual(["write", "read"]);
  });

  it("a scope not registered for the client: invalid_scope", () => {
    expect(fails({ scope: "delete" })).toBe("invalid_scope/scope_not_allowed");
    expect(fails({ scope: "read delete" })).toBe("invalid_scope/scope_not_allowed");
    expect(fails({ scope: "READ" })).toBe("invalid_scope/scope_not_allowed");
    expect(fails({ scope: "read" }, client({ scope: "" }))).toBe("invalid_scope/scope_not_allowed");
  });

  it("a malformed scope string: invalid_scope", () => {
    for (const scope of ["read  write", " read", "read ", 'read "write"', "read\\write", "réad"]) {
      expect(fails({ scope }), scope).toBe("invalid_scope/scope_malformed");
    }
  });
});

describe("audience", () => {
  it("the default audience without resource", () => {
    expect(decide({}).audience).toBe(ISSUER);
  });

  it("an allowed resource, exactly as registered", () => {
    expect(decide({ resource: "https://api.example/v1" }).audience).toBe("https://api.example/v1");
    expect(decide({ resource: "urn:example:ledger" }).audience).toBe("urn:example:ledger");
  });

  it("a resource not allowed, relative, or with a fragment: invalid_target", () => {
    expect(fails({ resource: "https://api.example/v1/" })).toBe("invalid_target/resource_not_allowed");
    expect(fails({ resource: "https://API.example/v1" })).toBe("invalid_target/resource_not_allowed");
    expect(fails({ resource: "/v1" })).toBe("invalid_target/resource_malformed");
    expect(fails({ resource: "api.example/v1" })).toBe("invalid_target/resource_malformed");
    expect(fails({ resource: "https://api.example/v1#x" })).toBe("invalid_target/resource_malformed");
    expect(fails({ resource: "https://api.example/v1#" })).toBe("invalid_target/resource_malformed");
  });
});

describe("grant", () => {
  it("a client not registered for client_credentials: unauthorized_client", () => {
    expect(fails({}, client({ grant_types: [] }))).toBe("unauthorized_client/grant_not_registered");
  });
});
