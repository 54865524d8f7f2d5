/**
 * The JWT bearer grant at the token endpoint (SPEC §13, RFC 7523 §2.1, MCP SEP-1933): a workload's
 * token from a trusted issuer, no client authentication, exactly one matching credential across
 * all clients; every SPEC §9 rule refused as 400 invalid_grant with its own description.
 * Each test trusts an issuer of its own, so credentials of other tests never match.
 */
import { decodeJwt, exportJWK, generateKeyPair } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { JWT_BEARER_GRANT as JWT_BEARER_GRANT_TYPE } from "../../../src/core/protocol.js";
import { fakeIssuer, type FakeIssuer } from "../../support/fake-issuers.js";
import { admin, expectOAuthError, ISSUER, JWT_BEARER, nowSeconds, OTK_TOKEN_URL, postForm, registerClient, registerSecretClient, TOKEN_URL, uniqueId } from "../../support/helpers.js";
import { signRaw } from "../../support/raw.js";

const SUB = "system:serviceaccount:ci:deployer";
const RESOURCE = "https://api.example/deploy";

interface Workload {
  readonly issuer: string;
  readonly key: FakeIssuer;
  readonly clientId: string;
  /** A token of the issuer for the workload, `overrides` applied (undefined deletes). */
  token(overrides?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

afterEach(() => vi.restoreAllMocks());

/** A trusted issuer of its own and a client whose credential allows the grant. */
async function workload(options: { credential?: Record<string, unknown>; issuer?: Record<string, unknown>; client?: Record<string, unknown>; alg?: string } = {}): Promise<Workload> {
  const issuer = `https://${uniqueId("ci")}.example`;
  const key = await fakeIssuer(options.alg ?? "ES256");
  const trusted = await admin("POST", "/admin/trusted-issuers", { issuer, jwks: { keys: [key.publicJwk] }, shared: false, ...options.issuer });
  expect(trusted.status, await trusted.clone().text()).toBe(201);
  const clientId = uniqueId("wl");
  await registerClient({
    client_id: clientId,
    scope: "deploy read",
    resources: [RESOURCE],
    federated_credentials: [{ name: "deployer", issuer, subject: SUB, grants: ["jwt_bearer"], ...options.credential }],
    ...options.client,
  });
  const token = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const now = nowSeconds();
    return key.sign({ iss: issuer, sub: SUB, aud: TOKEN_URL, iat: now, nbf: now, exp: now + 300, jti: crypto.randomUUID(), ...overrides }, header);
  };
  return { issuer, key, clientId, token };
}

function grant(assertion: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}, url = TOKEN_URL): Promise<Response> {
  return postForm({ grant_type: JWT_BEARER_GRANT_TYPE, assertion, ...extra }, headers, url);
}

/** The request is refused with 400 invalid_grant and a description matching `text`. */
async function refused(res: Response, text: RegExp, error = "invalid_grant", status = 400): Promise<string> {
  const body = await expectOAuthError(res, status, error);
  expect(body.error_description).toMatch(text);
  return body.error_description;
}

describe("the JWT bearer grant issues a token to the one matching credential's client", () => {
  it("needs no client authentication; sub = client_id, the client's scopes, exp never after the assertion's; audited without the token", async () => {
    const wl = await workload();
    const log = vi.spyOn(console, "log");
    const exp = nowSeconds() + 120;
    const assertion = await wl.token({ exp });
    const res = await grant(assertion);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ token_type: "Bearer", scope: "deploy read" });
    expect(body.expires_in as number).toBeLessThanOrEqual(120);
    const claims = decodeJwt(body.access_token as string);
    expect(claims).toMatchObject({ iss: ISSUER, sub: wl.clientId, client_id: wl.clientId, aud: ISSUER, scope: "deploy read" });
    expect(claims.exp).toBeLessThanOrEqual(exp);
    const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"audit":"token_issued"'));
    expect(JSON.parse(line!)).toMatchObject({ client_id: wl.clientId, grant_type: JWT_BEARER_GRANT_TYPE, auth_method: "jwt_bearer", issuer: wl.issuer, subject: SUB, credential: "deployer", token_jti: claims.jti });
    expect(line).not.toContain(assertion.split(".")[2]);
  });

  it("the client's scope and resource rules apply", async () => {
    const wl = await workload();
    const narrowed = await grant(await wl.token(), { scope: "read", resource: RESOURCE });
    expect(narrowed.status).toBe(200);
    expect(decodeJwt((await narrowed.json<{ access_token: string }>()).access_token)).toMatchObject({ scope: "read", aud: RESOURCE });
    await refused(await grant(await wl.token(), { scope: "admin" }), /not among the client's registered scopes/, "invalid_scope");
    await refused(await grant(await wl.token(), { resource: "https://other.example/" }), /not one this client may use/, "invalid_target");
  });

  it("a refusal after the credential matched names the workload in its audit line (issuer, subject, credential)", async () => {
    const wl = await workload();
    const log = vi.spyOn(console, "log");
    await refused(await grant(await wl.token(), { scope: "admin" }), /not among the client's registered scopes/, "invalid_scope");
    const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"audit":"token_refused"'));
    expect(JSON.parse(line!)).toMatchObject({ client_id: wl.clientId, reason: "scope_not_allowed", issuer: wl.issuer, subject: SUB, credential: "deployer" });
  });

  it("assertion is required", async () => {
    await refused(await postForm({ grant_type: JWT_BEARER_GRANT_TYPE }), /assertion is required/, "invalid_request");
  });

  it("a DPoP proof binds the token, as with client_credentials", async () => {
    const wl = await workload();
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const { SignJWT } = await import("jose");
    const proof = await new SignJWT({ htm: "POST", htu: TOKEN_URL, iat: nowSeconds(), jti: crypto.randomUUID() })
      .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    const res = await grant(await wl.token(), {}, { DPoP: proof });
    expect(res.status).toBe(200);
    const body = await res.json<{ access_token: string; token_type: string }>();
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token).cnf).toBeDefined();
  });
});

describe("aud: the token endpoint URL or the issuer identifier, with or without one trailing /", () => {
  it("accepts each, as a string or inside an array; refuses anything else", async () => {
    const wl = await workload();
    for (const aud of [TOKEN_URL, `${TOKEN_URL}/`, ISSUER, `${ISSUER}/`, ["https://elsewhere.example", ISSUER]]) {
      expect((await grant(await wl.token({ aud }))).status, JSON.stringify(aud)).toBe(200);
    }
    // The token endpoint that was called: the OAuth Toolkit path names its own URL.
    expect((await grant(await wl.token({ aud: OTK_TOKEN_URL }), {}, {}, OTK_TOKEN_URL)).status).toBe(200);
    for (const aud of [`${ISSUER}//`, `${TOKEN_URL}//`, ISSUER.toUpperCase(), OTK_TOKEN_URL, "https://elsewhere.example", undefined]) {
      await refused(await grant(await wl.token({ aud })), /aud names neither this server's token endpoint URL nor its issuer identifier/);
    }
  });
});

describe("exactly one matching credential across all clients", () => {
  it("two clients whose credentials match the same workload: refused, for both", async () => {
    const wl = await workload();
    await registerClient({ client_id: uniqueId("twin"), federated_credentials: [{ name: "twin", issuer: wl.issuer, subject_pattern: "system:serviceaccount:ci:deployer", grants: ["jwt_bearer"] }] });
    await refused(await grant(await wl.token()), /matches federated credentials of several clients/);
  });

  it("a credential that does not allow the grant is no candidate (grants default: client_assertion)", async () => {
    const wl = await workload({ credential: { grants: undefined } });
    await refused(await grant(await wl.token()), /no client has a federated credential for this issuer that allows the jwt-bearer grant/);
  });

  it("an issuer without jwt_bearer credentials: the signature and issuer rules are judged first, so a caller who cannot sign learns nothing of the credentials", async () => {
    const wl = await workload({ credential: { grants: undefined } });
    const impostor = await fakeIssuer("ES256", wl.key.kid);
    await refused(await grant(await impostor.sign({ iss: wl.issuer, sub: SUB, aud: TOKEN_URL, exp: nowSeconds() + 60, jti: "j" })), /assertion signature verification failed/);
    await refused(await grant(await wl.token({}, { kid: "unknown-kid" })), /no key of the trusted issuer matches the assertion kid and alg/);
    const now = nowSeconds();
    await refused(await grant(await wl.token({ iat: now - 400, nbf: undefined, exp: now - 60 })), /assertion has expired/);
    // Only a token the issuer really signed, valid now, learns that no credential allows the grant.
    await refused(await grant(await wl.token()), /no client has a federated credential for this issuer that allows the jwt-bearer grant/);
  });

  it("a jwt_bearer-only credential is no client assertion", async () => {
    const wl = await workload();
    const res = await postForm({ grant_type: "client_credentials", client_id: wl.clientId, client_assertion_type: JWT_BEARER, client_assertion: await wl.token({ aud: ISSUER }) });
    await refused(res, /the matching credential allows only the jwt-bearer grant/, "invalid_client", 401);
  });

  it("a credential with both grants serves both, and one token is single use across them", async () => {
    const wl = await workload({ credential: { grants: ["client_assertion", "jwt_bearer"] } });
    const token = await wl.token({ aud: ISSUER });
    expect((await grant(token)).status).toBe(200);
    const asClient = await postForm({ grant_type: "client_credentials", client_id: wl.clientId, client_assertion_type: JWT_BEARER, client_assertion: token });
    await refused(asClient, /jti has already been used/, "invalid_client", 401);
    expect((await postForm({ grant_type: "client_credentials", client_id: wl.clientId, client_assertion_type: JWT_BEARER, client_assertion: await wl.token({ aud: ISSUER }) })).status).toBe(200);
  });

  it("a disabled client's credential matches nothing; removing the credential takes the client out of the index", async () => {
    const wl = await workload();
    expect((await admin("PATCH", `/admin/clients/${wl.clientId}`, { disabled: true })).status).toBe(200);
    await refused(await grant(await wl.token()), /no client has a federated credential/);
    expect((await admin("PATCH", `/admin/clients/${wl.clientId}`, { disabled: false })).status).toBe(200);
    expect((await grant(await wl.token())).status).toBe(200);
    expect((await admin("PATCH", `/admin/clients/${wl.clientId}`, { federated_credentials: [{ name: "deployer", issuer: wl.issuer, subject: SUB }] })).status).toBe(200);
    await refused(await grant(await wl.token()), /no client has a federated credential/);
  });

  it("a request that names or authenticates a client: the credential must be that client's", async () => {
    const wl = await workload();
    const other = await registerSecretClient("client_secret_basic");
    const basic = (id: string, secret: string) => ({ Authorization: `Basic ${btoa(`${id}:${secret}`)}` });
    await refused(await grant(await wl.token(), {}, basic(other.clientId, other.secret)), /belongs to another client than the one this request names or authenticates/);
    await refused(await grant(await wl.token(), { client_id: other.clientId }), /belongs to another client/);
    expect((await grant(await wl.token(), { client_id: wl.clientId })).status).toBe(200);
    // A client authentication that fails is invalid_client, as everywhere.
    await refused(await grant(await wl.token(), {}, basic(other.clientId, "wrong")), /wrong client secret/, "invalid_client", 401);
  });

  it("the workload's own client may authenticate beside the assertion", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "own", alg: "ES256" };
    const wl = await workload({ client: { jwks: { keys: [jwk] } } });
    const { SignJWT } = await import("jose");
    const now = nowSeconds();
    const clientAssertion = await new SignJWT({ iss: wl.clientId, sub: wl.clientId, aud: TOKEN_URL, iat: now, exp: now + 60, jti: crypto.randomUUID() }).setProtectedHeader({ alg: "ES256", kid: "own" }).sign(privateKey);
    const res = await grant(await wl.token(), { client_assertion_type: JWT_BEARER, client_assertion: clientAssertion });
    expect(res.status, await res.clone().text()).toBe(200);
    // Both jtis were spent: the client assertion cannot be used again.
    await refused(await grant(await wl.token(), { client_assertion_type: JWT_BEARER, client_assertion: clientAssertion }), /client_assertion jti has already been used/, "invalid_client", 401);
  });
});

describe("every SPEC §9 rule, as invalid_grant with its own description", () => {
  it("the assertion's form: compact JWS, at most 8 KiB, never JWE or alg none", async () => {
    const wl = await workload();
    await refused(await grant("x".repeat(8 * 1024 + 1)), /assertion is larger than 8 KiB/);
    await refused(await grant("a.b.c.d.e"), /assertion is encrypted \(JWE\)/);
    await refused(await grant("not-a-jwt"), /assertion is not a compact JWS/);
    const unsecured = `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${btoa(JSON.stringify({ iss: wl.issuer })).replace(/=+$/, "")}.sig`;
    await refused(await grant(unsecured), /assertion is unsecured \(alg none\)/);
  });

  it("the issuer: trusted, its allowed algs, no crit, a key by kid, the signature, a JSON payload", async () => {
    const wl = await workload({ issuer: { allowed_algs: ["ES256"] } });
    await refused(await grant(await wl.token({ iss: "https://untrusted.example" })), /assertion: its issuer \(iss\) is not a trusted issuer/);
    const rsa = await fakeIssuer("RS256", wl.key.kid);
    await refused(await grant(await rsa.sign({ iss: wl.issuer, sub: SUB, aud: TOKEN_URL, exp: nowSeconds() + 60, jti: "j" })), /assertion alg is not one of the trusted issuer's allowed_algs/);
    const withCrit = await signRaw({ alg: "ES256", kid: wl.key.kid, crit: ["x"], x: 1 }, { iss: wl.issuer, sub: SUB, aud: TOKEN_URL, exp: nowSeconds() + 60, jti: "j" }, wl.key.privateKey);
    await refused(await grant(withCrit), /assertion has a crit header parameter/);
    await refused(await grant(await wl.token({}, { kid: "unknown-kid" })), /no key of the trusted issuer matches the assertion kid and alg/);
    const impostor = await fakeIssuer("ES256", wl.key.kid);
    await refused(await grant(await impostor.sign({ iss: wl.issuer, sub: SUB, aud: TOKEN_URL, exp: nowSeconds() + 60, jti: "j" })), /assertion signature verification failed/);
    const notObject = await signRaw({ alg: "ES256", kid: wl.key.kid }, [wl.issuer] as unknown as Record<string, unknown>, wl.key.privateKey);
    // The unverified payload names no issuer: the grant cannot find one to trust.
    await refused(await grant(notObject), /its issuer \(iss\) is not a trusted issuer/);
  });

  it("the issuer's keys: unreachable or unusable is invalid_grant, never a 5xx", async () => {
    const wl = await workload({ issuer: { jwks: undefined, jwks_uri: `https://${uniqueId("keys")}.example/jwks` } });
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("down", { status: 503 }));
    await refused(await grant(await wl.token()), /assertion: the trusted issuer's keys could not be fetched/);
    vi.spyOn(globalThis, "fetch").mockResolvedValue(Response.json({ keys: [{ kty: "oct", k: "AAAA", kid: "x" }] }));
    const other = await workload({ issuer: { jwks: undefined, jwks_uri: `https://${uniqueId("keys")}.example/jwks` } });
    await refused(await grant(await other.token()), /assertion: the trusted issuer published no usable keys/);
  });

  it("exp, iat, nbf and the issuer's lifetime cap", async () => {
    const wl = await workload({ issuer: { max_token_lifetime: 600 } });
    const now = nowSeconds();
    await refused(await grant(await wl.token({ exp: undefined })), /assertion exp is missing or not a number/);
    await refused(await grant(await wl.token({ iat: now - 400, nbf: undefined, exp: now - 60 })), /assertion has expired/);
    await refused(await grant(await wl.token({ iat: undefined, exp: now + 3600 })), /assertion exp is further in the future than the issuer's max_token_lifetime/);
    await refused(await grant(await wl.token({ iat: "yesterday" })), /assertion iat is not a number/);
    await refused(await grant(await wl.token({ iat: now + 120, nbf: undefined })), /assertion iat is in the future/);
    await refused(await grant(await wl.token({ iat: now, exp: now })), /assertion exp is not after iat/);
    await refused(await grant(await wl.token({ iat: now - 500, exp: now + 200 })), /assertion lifetime \(exp - iat\) exceeds the issuer's max_token_lifetime/);
    await refused(await grant(await wl.token({ nbf: "soon" })), /assertion nbf is not a number/);
    await refused(await grant(await wl.token({ nbf: now + 120 })), /assertion is not yet valid/);
    // Within the skew but past: valid, yet no token can be shorter-lived than it.
    await refused(await grant(await wl.token({ iat: now - 100, nbf: undefined, exp: now - 1 })), /assertion expires now: no access token can be shorter-lived than it/);
  });

  it("jti: required for a single_use issuer, at most 256 characters, single use", async () => {
    const wl = await workload();
    await refused(await grant(await wl.token({ jti: undefined })), /assertion has no jti, and the trusted issuer's tokens are single use/);
    await refused(await grant(await wl.token({ jti: "j".repeat(257) })), /assertion jti is longer than 256 characters/);
    const once = await wl.token();
    expect((await grant(once)).status).toBe(200);
    await refused(await grant(once), /assertion jti has already been used \(this issuer's tokens are single use\)/);
    const reusable = await workload({ issuer: { jti_policy: "reuse" } });
    const token = await reusable.token({ jti: undefined });
    expect((await grant(token)).status).toBe(200);
    expect((await grant(token)).status).toBe(200);
  });

  it("the credential's rules: sub, subject_pattern, pinned claims", async () => {
    const wl = await workload({ credential: { claims: { cluster_id: "c-1" } } });
    await refused(await grant(await wl.token({ sub: "system:serviceaccount:ci:other", cluster_id: "c-1" })), /assertion sub differs from the credential's subject/);
    await refused(await grant(await wl.token({ cluster_id: "c-2" })), /assertion claim differs from the credential's pinned value: cluster_id$/);
    expect((await grant(await wl.token({ cluster_id: "c-1" }))).status).toBe(200);
    // A service-account pattern names its namespace and account literally (issue 18): the pattern case uses another subject shape.
    const pattern = await workload({ credential: { subject: undefined, subject_pattern: "workload:ci:deploy-*" } });
    await refused(await grant(await pattern.token()), /assertion sub does not match the credential's subject_pattern/);
    expect((await grant(await pattern.token({ sub: "workload:ci:deploy-web" }))).status).toBe(200);
  });

  it("several candidates, none matching: one text that points to explain", async () => {
    const wl = await workload();
    await registerClient({ client_id: uniqueId("other"), federated_credentials: [{ name: "other", issuer: wl.issuer, subject: "system:serviceaccount:ci:other", grants: ["jwt_bearer"] }] });
    await refused(await grant(await wl.token({ sub: "system:serviceaccount:ci:nobody" })), /no federated credential that allows the jwt-bearer grant matches the assertion \(POST \/admin\/clients\/:id\/federation\/explain/);
  });

  it("every description above is distinct", async () => {
    // Collected by the refusals of this file: the catalogue test (test/oauth/grants/jwt-bearer.test.ts) checks all texts.
    const wl = await workload();
    const seen = new Set<string>();
    for (const overrides of [{ exp: undefined }, { jti: undefined }, { sub: "x" }, { aud: "https://x.example" }]) {
      seen.add(await refused(await grant(await wl.token(overrides)), /assertion/));
    }
    expect(seen.size).toBe(4);
  });
});

describe("explain covers the grant", () => {
  it("reports the credential the grant would use, other clients that match too, and credentials that do not allow it", async () => {
    const wl = await workload();
    const token = await wl.token();
    const first = await (await admin("POST", `/admin/clients/${wl.clientId}/federation/explain`, { assertion: token })).json<Record<string, any>>();
    expect(first.jwt_bearer).toEqual({ matched: "deployer", credentials: [{ name: "deployer", result: "match" }], other_clients: [] });
    // As a client assertion the same credential does not serve.
    expect(first.credentials).toEqual([{ name: "deployer", result: "federated_credential_grant_not_allowed", description: expect.stringMatching(/allows only the jwt-bearer grant/) }]);
    const twin = uniqueId("twin");
    await registerClient({ client_id: twin, federated_credentials: [{ name: "twin", issuer: wl.issuer, subject: SUB, grants: ["jwt_bearer"] }, { name: "assertion-only", issuer: wl.issuer, subject: SUB }] });
    const second = await (await admin("POST", `/admin/clients/${twin}/federation/explain`, { assertion: token })).json<Record<string, any>>();
    expect(second.jwt_bearer).toEqual({
      matched: null,
      failure: { rule: "jwt_bearer_several_matched", description: expect.any(String) },
      credentials: [{ name: "twin", result: "match" }, { name: "assertion-only", result: "grant_not_allowed", description: "the credential's grants omit jwt_bearer" }],
      other_clients: [wl.clientId],
    });
    // Nothing was consumed by explaining.
    await refused(await grant(token), /several clients/);
  });
});

describe("the JWT bearer grant and SPEC §11", () => {
  it("the client's quota applies (429 beyond it) and usage counts its tokens exactly, with the workload token's jti", async () => {
    const wl = await workload({ client: { token_quota: { limit: 2, window: 86_400 } } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await grant(await wl.token())).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Without a quota: a replayed workload token is refused and not counted.
    const plain = await workload();
    expect((await grant(await plain.token())).status).toBe(200);
    const again = await plain.token();
    expect((await grant(again)).status).toBe(200);
    expect((await grant(again)).status).toBe(400);
    const total = async (id: string) => (await (await admin("GET", `/admin/clients/${id}/usage`)).json<any>()).hours.reduce((n: number, h: any) => n + h.issued, 0);
    expect(await total(wl.clientId)).toBe(2);
    expect(await total(plain.clientId)).toBe(2);
  });
});
