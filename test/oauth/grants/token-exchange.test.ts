/**
 * Token exchange's pure rules (SPEC §13, RFC 8693): the request's shape, the target, the subject
 * token's audience, act nesting and its depth limit (±1), scope never wider, and the
 * registration rule on subject_audiences.
 */
import { describe, expect, it } from "vitest";
import type { ClientRecord, TokenExchangePolicy } from "../../../src/core/client-record.js";
import { actorDepth, MAX_ACT_DEPTH } from "../../../src/core/actor-chain.js";
import type { ActorClaim } from "../../../src/oauth/access-token.js";
import { ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE } from "../../../src/core/protocol.js";
import {
  checkExchangeTarget,
  checkSubjectAudience,
  decideExchangeScopes,
  nestedActor,
  readExchangeRequest,
  tokenExchangePolicyProblem,
} from "../../../src/oauth/grants/token-exchange.js";
import { outcome } from "../../support/reason.js";

const UPSTREAM = "https://upstream.example/api";
const MCP = "https://mcp.example/mcp";
const policy: TokenExchangePolicy = { subject_audiences: [MCP], resources: [UPSTREAM, "urn:example:ledger"] };
const base = { subject_token: "t", subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM };
const read = (params: Record<string, string | undefined>) =>
  outcome(() => readExchangeRequest(new Map(Object.entries({ ...base, ...params }).filter((e): e is [string, string] => e[1] !== undefined))));
const client = (scope: string): ClientRecord => ({
  client_id: "mcp", token_endpoint_auth_method: "client_secret_basic", scope, grant_types: ["client_credentials"], resources: [], dpop_bound_access_tokens: false, disabled: false, created_at: 0, updated_at: 0, replay_guard_shards: 64,
});
const chain = (depth: number): ActorClaim | undefined => (depth === 0 ? undefined : { sub: `actor-${depth}`, ...(depth > 1 ? { act: chain(depth - 1)! } : {}) });

describe("the request (RFC 8693 §2.1)", () => {
  it("a complete request reads its subject token, target and scope", () => {
    expect(readExchangeRequest(new Map(Object.entries({ ...base, scope: "read" })))).toEqual({ subjectToken: "t", target: UPSTREAM, scope: "read" });
    expect(read({ subject_token_type: JWT_TOKEN_TYPE })).toBe("ok");
    expect(read({ requested_token_type: ACCESS_TOKEN_TYPE })).toBe("ok");
  });
  it("actor_token is refused: the authenticated client is the actor", () => {
    expect(read({ actor_token: "x", actor_token_type: ACCESS_TOKEN_TYPE })).toBe("invalid_request/token_exchange_actor_token");
    expect(read({ actor_token_type: ACCESS_TOKEN_TYPE })).toBe("invalid_request/token_exchange_actor_token");
  });
  it("subject_token and subject_token_type are required; the type names an access token or a JWT", () => {
    expect(read({ subject_token: undefined })).toBe("invalid_request/token_exchange_subject_token_missing");
    expect(read({ subject_token_type: undefined })).toBe("invalid_request/token_exchange_subject_token_missing");
    expect(read({ subject_token_type: "urn:ietf:params:oauth:token-type:id_token" })).toBe("invalid_request/token_exchange_subject_token_type");
    expect(read({ subject_token_type: "urn:ietf:params:oauth:token-type:refresh_token" })).toBe("invalid_request/token_exchange_subject_token_type");
  });
  it("only access tokens are issued", () => {
    expect(read({ requested_token_type: JWT_TOKEN_TYPE })).toBe("invalid_request/token_exchange_requested_token_type");
  });
  it("one target: resource or audience, the same when both are sent; resource an absolute URI", () => {
    expect(read({ resource: undefined })).toBe("invalid_request/token_exchange_target_missing");
    expect(read({ resource: undefined, audience: "urn:example:ledger" })).toBe("ok");
    expect(read({ audience: UPSTREAM })).toBe("ok");
    expect(read({ audience: "urn:example:ledger" })).toBe("invalid_target/token_exchange_targets_differ");
    expect(read({ resource: "api/relative" })).toBe("invalid_target/resource_malformed");
  });
});

describe("the target and the subject token's audience", () => {
  it("the target is one of token_exchange.resources", () => {
    expect(outcome(() => checkExchangeTarget(UPSTREAM, policy))).toBe("ok");
    expect(outcome(() => checkExchangeTarget(`${UPSTREAM}/`, policy))).toBe("invalid_target/token_exchange_target_not_allowed");
    expect(outcome(() => checkExchangeTarget(MCP, policy))).toBe("invalid_target/token_exchange_target_not_allowed");
  });
  it("the subject token was issued to this client as a resource (aud among subject_audiences)", () => {
    expect(outcome(() => checkSubjectAudience(MCP, policy))).toBe("ok");
    expect(outcome(() => checkSubjectAudience(["https://other.example", MCP], policy))).toBe("ok");
    expect(outcome(() => checkSubjectAudience("https://issuer.test", policy))).toBe("invalid_request/token_exchange_subject_foreign");
    expect(outcome(() => checkSubjectAudience([], policy))).toBe("invalid_request/token_exchange_subject_foreign");
  });
});

describe("act (RFC 8693 §4.1): the exchanging client, the subject's actor nested, at most 5 deep", () => {
  it("nests the subject token's act inside", () => {
    expect(nestedActor("mcp", undefined)).toEqual({ sub: "mcp" });
    expect(nestedActor("mcp", { sub: "gateway" })).toEqual({ sub: "mcp", act: { sub: "gateway" } });
  });
  it(`a chain of ${MAX_ACT_DEPTH} is the deepest: a subject with ${MAX_ACT_DEPTH - 1} is exchanged, one with ${MAX_ACT_DEPTH} is not`, () => {
    expect(actorDepth(nestedActor("mcp", chain(MAX_ACT_DEPTH - 1)))).toBe(MAX_ACT_DEPTH);
    expect(outcome(() => nestedActor("mcp", chain(MAX_ACT_DEPTH)))).toBe("invalid_request/token_exchange_act_too_deep");
  });
});

describe("scope: never wider than the subject token's, nor the client's", () => {
  it("omitted: what both have", () => {
    expect(decideExchangeScopes(undefined, "orders:read orders:write mcp:tools", client("orders:read mcp:tools"))).toEqual(["orders:read", "mcp:tools"]);
    expect(decideExchangeScopes(undefined, undefined, client("orders:read"))).toEqual([]);
  });
  it("a narrower request is granted", () => {
    expect(decideExchangeScopes("orders:read", "orders:read mcp:tools", client("orders:read mcp:tools"))).toEqual(["orders:read"]);
  });
  it("wider than the subject token: invalid_scope; not the client's: invalid_scope with the client's text", () => {
    expect(outcome(() => decideExchangeScopes("orders:write", "orders:read", client("orders:read orders:write")))).toBe("invalid_scope/token_exchange_scope_wider");
    expect(outcome(() => decideExchangeScopes("orders:write", "orders:read orders:write", client("orders:read")))).toBe("invalid_scope/scope_not_allowed");
    expect(outcome(() => decideExchangeScopes("a\"b", "a", client("a")))).toBe("invalid_scope/scope_malformed");
  });
});

describe("registration: subject_audiences never name this server's issuer", () => {
  it("refuses the issuer, with or without its trailing /", () => {
    expect(tokenExchangePolicyProblem({ subject_audiences: ["https://issuer.test"], resources: [UPSTREAM] }, "https://issuer.test")?.[0]).toBe("token_exchange.subject_audiences");
    expect(tokenExchangePolicyProblem({ subject_audiences: ["https://issuer.test/"], resources: [UPSTREAM] }, "https://issuer.test")?.[0]).toBe("token_exchange.subject_audiences");
    expect(tokenExchangePolicyProblem(policy, "https://issuer.test")).toBeUndefined();
    expect(tokenExchangePolicyProblem(null, "https://issuer.test")).toBeUndefined();
  });
});
