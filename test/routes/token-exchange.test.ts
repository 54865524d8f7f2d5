/**
 * Token exchange at the token endpoint (SPEC §13, RFC 8693): an MCP server exchanges its caller's
 * token for its own, narrower token for an upstream API. Every refusal with its own description;
 * act nesting and its depth limit; scope never wider, exp never later; DPoP-bound subject tokens;
 * revoking a subject token makes its derivatives inactive.
 */
import { decodeJwt } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT as TOKEN_EXCHANGE_GRANT_TYPE } from "../../src/core/protocol.js";
import { admin, callWorker, expectOAuthError, ISSUER, nowSeconds, postForm, registerClient, registerKeyClient, registerSecretClient, TOKEN_URL, uniqueId, type KeyClient } from "../helpers.js";
import { authenticatedForm, dpopKey, dpopProof, forgeServerToken, INTROSPECT_URL, introspection, revoke, type DpopKey } from "../lifecycle-helpers.js";

const MCP = "https://mcp.example/mcp";
const UPSTREAM = "https://orders.example/api";

let caller: KeyClient;
let mcp: { clientId: string; secret: string };
const basic = (c: { clientId: string; secret: string }) => ({ Authorization: `Basic ${btoa(`${c.clientId}:${c.secret}`)}` });

beforeAll(async () => {
  caller = await registerKeyClient("ES256", { scope: "orders:read orders:write mcp:tools", resources: [MCP] });
  mcp = await registerSecretClient("client_secret_basic", { scope: "orders:read mcp:tools", token_exchange: { subject_audiences: [MCP], resources: [UPSTREAM] } });
});
afterEach(() => vi.restoreAllMocks());

/** The caller's token for the MCP server (aud = MCP). */
async function callerToken(extra: Record<string, string> = {}, headers: Record<string, string> = {}, who: KeyClient = caller): Promise<string> {
  const res = await postForm(await authenticatedForm(who, TOKEN_URL, { grant_type: "client_credentials", resource: MCP, ...extra }), headers);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

function exchange(subjectToken: string, extra: Record<string, string | undefined> = {}, headers: Record<string, string> = basic(mcp)): Promise<Response> {
  const form = Object.fromEntries(
    Object.entries({ grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM, ...extra }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return postForm(form, headers);
}

async function exchanged(subjectToken: string, extra: Record<string, string | undefined> = {}, headers?: Record<string, string>): Promise<Record<string, any>> {
  const res = await exchange(subjectToken, extra, headers);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function refused(res: Response, status: number, error: string, text: RegExp): Promise<string> {
  const body = await expectOAuthError(res, status, error);
  expect(body.error_description).toMatch(text);
  return body.error_description;
}

describe("an MCP server exchanges its caller's token for an upstream one", () => {
  it("sub stays the caller's, client_id and act name the MCP server, aud the upstream, scope the intersection, exp no later; audited", async () => {
    const subject = await callerToken();
    const log = vi.spyOn(console, "log");
    const body = await exchanged(subject);
    expect(body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: "Bearer", scope: "orders:read mcp:tools" });
    const claims = decodeJwt(body.access_token);
    const original = decodeJwt(subject);
    expect(claims).toMatchObject({ iss: ISSUER, sub: caller.clientId, client_id: mcp.clientId, act: { sub: mcp.clientId }, aud: UPSTREAM, exchanged_from: [original.jti] });
    expect(claims.jti).not.toBe(original.jti);
    expect(claims.exp).toBeLessThanOrEqual(original.exp!);
    // SPEC §11 + §13: the token_issued audit line says whose token was exchanged, by whom (jtis only).
    const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"audit":"token_issued"'));
    expect(JSON.parse(line!)).toMatchObject({ client_id: mcp.clientId, grant_type: "urn:ietf:params:oauth:grant-type:token-exchange", token_sub: caller.clientId, subject_token_jti: original.jti, token_jti: claims.jti, aud: UPSTREAM });
    expect(line).not.toContain(subject.split(".")[2]);
  });

  it("subject_token_type jwt names the same tokens; audience works as the target; a narrower scope is granted", async () => {
    const body = await exchanged(await callerToken(), { subject_token_type: JWT_TOKEN_TYPE, resource: undefined, audience: UPSTREAM, scope: "orders:read" });
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: UPSTREAM, scope: "orders:read" });
  });

  it("exp is never later than the subject token's, whatever the exchanging client's own lifetime", async () => {
    const shortLived = await registerKeyClient("ES256", { scope: "mcp:tools", resources: [MCP], access_token_ttl: 60 });
    const subject = await callerToken({}, {}, shortLived);
    const body = await exchanged(subject);
    expect(decodeJwt(body.access_token).exp).toBeLessThanOrEqual(decodeJwt(subject).exp!);
    expect(body.expires_in).toBeLessThanOrEqual(60);
  });

  it("introspection shows act; the metadata lists the grant", async () => {
    const body = await exchanged(await callerToken());
    const res = await postForm({ token: body.access_token }, basic(mcp), INTROSPECT_URL);
    expect(await res.json()).toMatchObject({ active: true, sub: caller.clientId, client_id: mcp.clientId, act: { sub: mcp.clientId } });
    const meta = await (await callWorker("/.well-known/oauth-authorization-server")).json<{ grant_types_supported: string[] }>();
    expect(meta.grant_types_supported).toContain(TOKEN_EXCHANGE_GRANT_TYPE);
  });
});

describe("who may exchange", () => {
  it("a client without token_exchange: unauthorized_client", async () => {
    const plain = await registerSecretClient("client_secret_basic", { scope: "mcp:tools" });
    await refused(await exchange(await callerToken(), {}, basic(plain)), 400, "unauthorized_client", /may not exchange tokens \(its record has no token_exchange\)/);
  });
  it("the exchanging client authenticates like at any grant (invalid_client), with any SPEC §3 method", async () => {
    await refused(await exchange(await callerToken(), {}, basic({ ...mcp, secret: "wrong" })), 401, "invalid_client", /wrong client secret/);
    await refused(await exchange(await callerToken(), {}, {}), 401, "invalid_client", /no client authentication/);
    const keyed = await registerKeyClient("ES256", { scope: "mcp:tools", token_exchange: { subject_audiences: [MCP], resources: [UPSTREAM] } });
    const form = await authenticatedForm(keyed, TOKEN_URL, { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token: await callerToken(), subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM });
    const res = await postForm(form);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(decodeJwt((await res.json<{ access_token: string }>()).access_token)).toMatchObject({ client_id: keyed.clientId, act: { sub: keyed.clientId } });
  });
  it("registration refuses subject_audiences naming this server's issuer", async () => {
    const res = await admin("POST", "/admin/clients", { client_id: uniqueId("greedy"), token_endpoint_auth_method: "client_secret_basic", token_exchange: { subject_audiences: [ISSUER], resources: [UPSTREAM] } });
    await refused(res, 400, "invalid_client_metadata", /token_exchange.subject_audiences: must not name this server's issuer/);
  });
});

describe("the request", () => {
  it("actor_token is refused", async () => {
    await refused(await exchange(await callerToken(), { actor_token: await callerToken(), actor_token_type: ACCESS_TOKEN_TYPE }), 400, "invalid_request", /actor_token is not supported/);
  });
  it("subject_token and its type are required; the type names an access token or a JWT; only access tokens are requested", async () => {
    await refused(await exchange(await callerToken(), { subject_token_type: undefined }), 400, "invalid_request", /subject_token and subject_token_type are required/);
    await refused(await exchange(await callerToken(), { subject_token_type: "urn:ietf:params:oauth:token-type:id_token" }), 400, "invalid_request", /subject_token_type must be/);
    await refused(await exchange(await callerToken(), { requested_token_type: "urn:ietf:params:oauth:token-type:refresh_token" }), 400, "invalid_request", /requested_token_type: only/);
  });
  it("the target: required, one of token_exchange.resources, resource and audience the same", async () => {
    await refused(await exchange(await callerToken(), { resource: undefined }), 400, "invalid_request", /token exchange needs a target/);
    await refused(await exchange(await callerToken(), { resource: MCP }), 400, "invalid_target", /not one of the client's token_exchange resources/);
    await refused(await exchange(await callerToken(), { audience: "https://other.example" }), 400, "invalid_target", /resource and audience name different targets/);
  });
  it("scope never wider than the subject token's, nor than the client's", async () => {
    const narrow = await callerToken({ scope: "mcp:tools" });
    await refused(await exchange(narrow, { scope: "orders:read" }), 400, "invalid_scope", /not in the subject_token's scope: an exchanged token is never wider/);
    await refused(await exchange(await callerToken(), { scope: "orders:write" }), 400, "invalid_scope", /not among the client's registered scopes/);
  });
});

describe("the subject token: ours, live, not revoked, issued to this client", () => {
  it("refuses garbage, another issuer's or key's token, an ID token's typ", async () => {
    await refused(await exchange("garbage"), 400, "invalid_request", /subject_token is not an access token of this server/);
    await refused(await exchange(await forgeServerToken({ aud: MCP, iss: "https://other.example" })), 400, "invalid_request", /subject_token is not an access token of this server/);
    await refused(await exchange(await forgeServerToken({ aud: MCP }, { typ: "JWT" })), 400, "invalid_request", /subject_token is not an access token of this server/);
    await refused(await exchange(await forgeServerToken({ aud: MCP }, { kid: "unknown" })), 400, "invalid_request", /subject_token is not an access token of this server/);
  });
  it("an expired one", async () => {
    const now = nowSeconds();
    await refused(await exchange(await forgeServerToken({ aud: MCP, iat: now - 120, exp: now - 1 })), 400, "invalid_request", /subject_token has expired/);
  });
  it("one not issued to this client as a resource", async () => {
    const plain = await postForm(await authenticatedForm(caller, TOKEN_URL, { grant_type: "client_credentials" }));
    await refused(await exchange((await plain.json<{ access_token: string }>()).access_token), 400, "invalid_request", /subject_token aud names none of the client's token_exchange subject_audiences/);
  });
  it("a revoked one, and then every token exchanged from it: at exchange, at introspection", async () => {
    const subject = await callerToken();
    const first = (await exchanged(subject)).access_token as string;
    // A second service that exchanges the MCP server's upstream token.
    const second = await registerSecretClient("client_secret_basic", { scope: "orders:read", token_exchange: { subject_audiences: [UPSTREAM], resources: ["https://ledger.example/"] } });
    const derived = (await exchanged(first, { resource: "https://ledger.example/" }, basic(second))).access_token as string;
    expect(decodeJwt(derived)).toMatchObject({ sub: caller.clientId, client_id: second.clientId, act: { sub: second.clientId, act: { sub: mcp.clientId } }, exchanged_from: [decodeJwt(first).jti, decodeJwt(subject).jti] });
    const resourceServer = await registerSecretClient("client_secret_basic", { introspection_allowed: true });
    const active = async (token: string) => (await (await postForm({ token }, basic(resourceServer), INTROSPECT_URL)).json<{ active: boolean }>()).active;
    expect([await active(first), await active(derived)]).toEqual([true, true]);

    expect((await revoke(caller, subject)).status).toBe(200);
    expect([await active(subject), await active(first), await active(derived)]).toEqual([false, false, false]);
    await refused(await exchange(subject), 400, "invalid_request", /subject_token has been revoked/);
    await refused(await exchange(first, { resource: "https://ledger.example/" }, basic(second)), 400, "invalid_request", /subject_token has been revoked \(or a token it was exchanged from has\)/);
  });
});

describe("act nesting, at most 5 deep", () => {
  it("a subject token with 4 actors is exchanged (5), one with 5 is refused", async () => {
    const chain = (depth: number): Record<string, unknown> | undefined => (depth === 0 ? undefined : { sub: `svc-${depth}`, ...(depth > 1 ? { act: chain(depth - 1) } : {}) });
    const four = await forgeServerToken({ sub: caller.clientId, aud: MCP, scope: "mcp:tools", act: chain(4), exchanged_from: ["a", "b", "c", "d"] });
    const body = await exchanged(four);
    expect(decodeJwt(body.access_token).act).toEqual({ sub: mcp.clientId, act: chain(4) });
    const five = await forgeServerToken({ sub: caller.clientId, aud: MCP, scope: "mcp:tools", act: chain(5), exchanged_from: ["a", "b", "c", "d", "e"] });
    await refused(await exchange(five), 400, "invalid_request", /an act chain deeper than 5 is refused/);
  });
});

describe("DPoP-bound subject tokens stay bound to their key", () => {
  let key: DpopKey;
  let bound: string;
  beforeAll(async () => {
    key = await dpopKey();
    bound = await callerToken({}, { DPoP: await dpopProof(key) });
    expect(decodeJwt(bound).cnf).toEqual({ jkt: key.jkt });
  });
  it("without a proof: refused", async () => {
    await refused(await exchange(bound), 400, "invalid_dpop_proof", /subject_token is DPoP-bound: send a DPoP proof signed with its key/);
  });
  it("with a proof of another key: refused", async () => {
    const other = await dpopKey();
    await refused(await exchange(bound, {}, { ...basic(mcp), DPoP: await dpopProof(other) }), 400, "invalid_dpop_proof", /the DPoP proof key differs from the subject_token's cnf.jkt/);
  });
  it("with a proof of its key: a DPoP token bound to the same key", async () => {
    const body = await exchanged(bound, {}, { ...basic(mcp), DPoP: await dpopProof(key) });
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
  });
  it("an unbound subject token with a proof: bound to the proof's key, as any DPoP token request", async () => {
    const fresh = await dpopKey();
    const body = await exchanged(await callerToken(), {}, { ...basic(mcp), DPoP: await dpopProof(fresh) });
    expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: fresh.jkt });
  });
});
