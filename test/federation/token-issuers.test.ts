/**
 * GitLab CI (OpenID discovery), Kubernetes (jwks_uri, reusable tokens) and SPIFFE (bundle endpoint,
 * jwt-spiffe) tokens as client assertions; unreachable keys; 25 concurrent copies of one single-use
 * token; introspection and revocation with federated authentication.
 */
import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { admin, callWorker, expectOAuthError, ISSUER, JWT_BEARER, nowSeconds, postForm, registerClient, uniqueId } from "../helpers.js";
import { jwksHost, routeFetchTo, type JwksHost } from "../jwks-host.js";
import { fakeIssuer, gitlabClaims, kubernetesClaims, spiffeClaims } from "./fake-issuers.js";

const JWT_SPIFFE = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

let host: JwksHost;
beforeEach(() => {
  host = jwksHost();
  routeFetchTo(host);
});
afterEach(() => vi.restoreAllMocks());

function exchange(clientId: string, assertion: string, type = JWT_BEARER, url?: string, extra: Record<string, string> = {}): Promise<Response> {
  return postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: type, client_assertion: assertion, ...extra }, {}, url);
}

async function trust(body: Record<string, unknown>): Promise<void> {
  const res = await admin("POST", "/admin/trusted-issuers", body);
  if (res.status !== 201) throw new Error(`trusted issuer: ${res.status} ${await res.text()}`);
}

async function client(credentials: unknown[]): Promise<string> {
  const clientId = uniqueId("fed");
  await registerClient({ client_id: clientId, federated_credentials: credentials, scope: "ci" });
  return clientId;
}

describe("GitLab CI id_tokens, keys by OpenID discovery", () => {
  it("fetches the discovery document, then its jwks_uri; refuses a document naming another issuer", async () => {
    const issuer = `https://${uniqueId("gitlab")}.example`;
    const gitlab = await fakeIssuer("RS256");
    host.serve(`${issuer}/.well-known/openid-configuration`, () => Response.json({ issuer, jwks_uri: `${issuer}/oauth/discovery/keys` }));
    host.serveKeys(`${issuer}/oauth/discovery/keys`, [gitlab.publicJwk]);
    await trust({ preset: "gitlab", issuer });
    const clientId = await client([{ name: "main", issuer, subject: "project_path:group/proj:ref_type:branch:ref:main", claims: { project_id: "20" } }]);
    expect((await exchange(clientId, await gitlab.sign(gitlabClaims(issuer)))).status).toBe(200);
    expect(host.count(`${issuer}/.well-known/openid-configuration`)).toBe(1);
    const other = await expectOAuthError(await exchange(clientId, await gitlab.sign(gitlabClaims(issuer, { project_id: "21" }))), 401, "invalid_client");
    expect(other.error_description).toMatch(/pinned value: project_id$/);

    const liar = `https://${uniqueId("gitlab")}.example`;
    host.serve(`${liar}/.well-known/openid-configuration`, () => Response.json({ issuer: "https://gitlab.com", jwks_uri: `${liar}/keys` }));
    host.serveKeys(`${liar}/keys`, [gitlab.publicJwk]);
    await trust({ preset: "gitlab", issuer: liar });
    const liarClient = await client([{ name: "main", issuer: liar, subject: "project_path:group/proj:ref_type:branch:ref:main", claims: { project_id: "20" } }]);
    const body = await expectOAuthError(await exchange(liarClient, await gitlab.sign(gitlabClaims(liar))), 401, "invalid_client");
    expect(body.error_description).toMatch(/published no usable keys/);
  });

  it("an unreachable issuer is invalid_client, never a 5xx", async () => {
    const issuer = `https://${uniqueId("down")}.example`;
    const gitlab = await fakeIssuer("RS256");
    host.serve(`${issuer}/.well-known/openid-configuration`, () => new Response("down", { status: 503 }));
    await trust({ preset: "gitlab", issuer });
    const clientId = await client([{ name: "main", issuer, subject: "project_path:group/proj:ref_type:branch:ref:main", claims: { namespace_id: "72" } }]);
    const body = await expectOAuthError(await exchange(clientId, await gitlab.sign(gitlabClaims(issuer))), 401, "invalid_client");
    expect(body.error_description).toMatch(/keys could not be fetched/);
  });
});

describe("Kubernetes projected service-account tokens", () => {
  it("reusable until exp (jti_policy reuse, no jti); another service account or namespace is refused", async () => {
    const issuer = `https://${uniqueId("cluster")}.k8s.example`;
    const cluster = await fakeIssuer("RS256");
    host.serveKeys(`${issuer}/openid/v1/jwks`, [cluster.publicJwk]);
    await trust({ preset: "kubernetes", issuer, jwks_uri: `${issuer}/openid/v1/jwks` });
    const clientId = await client([{ name: "deployer", issuer, subject: "system:serviceaccount:prod:deployer" }]);
    const token = await cluster.sign(kubernetesClaims(issuer));
    expect((await exchange(clientId, token)).status).toBe(200);
    expect((await exchange(clientId, token)).status).toBe(200);
    const other = await expectOAuthError(await exchange(clientId, await cluster.sign(kubernetesClaims(issuer, { sub: "system:serviceaccount:dev:deployer" }))), 401, "invalid_client");
    expect(other.error_description).toMatch(/sub differs/);
    const refused = await admin("POST", "/admin/clients", { client_id: uniqueId("k8s"), federated_credentials: [{ name: "d", issuer, subject: "system:serviceaccount:prod:default" }] });
    expect((await expectOAuthError(refused, 400, "invalid_client_metadata")).error_description).toMatch(/default service account/);
  });
});

describe("SPIFFE JWT-SVIDs from a bundle endpoint", () => {
  it("accepts a JWT-SVID (with jwt-spiffe or jwt-bearer), keys with use jwt-svid only; jwt-spiffe is refused for other issuers", async () => {
    const svid = await fakeIssuer("ES256");
    const x509 = await fakeIssuer("ES256");
    const bundle = `https://${uniqueId("spire")}.example/bundle`;
    host.serve(bundle, () => Response.json({ keys: [{ ...svid.publicJwk, use: "jwt-svid" }, { ...x509.publicJwk, use: "x509-svid" }], spiffe_sequence: 1 }));
    await trust({ preset: "spiffe", issuer: "spiffe://example.org", spiffe_bundle_endpoint: bundle });
    const clientId = await client([{ name: "api", issuer: "spiffe://example.org", subject: "spiffe://example.org/ns/prod/sa/api" }]);
    expect((await exchange(clientId, await svid.sign(spiffeClaims()), JWT_SPIFFE)).status).toBe(200);
    expect((await exchange(clientId, await svid.sign(spiffeClaims()))).status).toBe(200);
    const x509Signed = await expectOAuthError(await exchange(clientId, await x509.sign(spiffeClaims())), 401, "invalid_client");
    expect(x509Signed.error_description).toMatch(/no key of the trusted issuer matches/);

    const issuer = `https://${uniqueId("cluster")}.k8s.example`;
    const cluster = await fakeIssuer("RS256");
    await trust({ preset: "kubernetes", issuer, jwks: { keys: [cluster.publicJwk] } });
    const k8sClient = await client([{ name: "deployer", issuer, subject: "system:serviceaccount:prod:deployer" }]);
    const body = await expectOAuthError(await exchange(k8sClient, await cluster.sign(kubernetesClaims(issuer)), JWT_SPIFFE), 401, "invalid_client");
    expect(body.error_description).toMatch(/jwt-spiffe is only for a JWT-SVID/);
  });
});

describe("single use under concurrency, and the other endpoints", () => {
  it("25 concurrent copies of one single-use token give exactly one access token", async () => {
    const issuer = `https://${uniqueId("ci")}.example`;
    const ci = await fakeIssuer("RS256");
    await trust({ issuer, jwks: { keys: [ci.publicJwk] }, shared: false });
    const clientId = await client([{ name: "main", issuer, subject: "project_path:group/proj:ref_type:branch:ref:main" }]);
    const token = await ci.sign(gitlabClaims(issuer));
    const results = await Promise.all(Array.from({ length: 25 }, () => exchange(clientId, token)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(24);
  });

  it("introspection and revocation accept federated authentication", async () => {
    const issuer = `https://${uniqueId("cluster")}.k8s.example`;
    const cluster = await fakeIssuer("RS256");
    await trust({ preset: "kubernetes", issuer, jwks: { keys: [cluster.publicJwk] } });
    const clientId = await client([{ name: "deployer", issuer, subject: "system:serviceaccount:prod:deployer" }]);
    const sa = await cluster.sign(kubernetesClaims(issuer));
    const { access_token } = await (await exchange(clientId, sa)).json<any>();
    const introspect = await exchange(clientId, sa, JWT_BEARER, `${ISSUER}/oauth2/introspect`, { token: access_token });
    expect(await introspect.json()).toMatchObject({ active: true, client_id: clientId });
    const denied = await expectOAuthError(await exchange(clientId, await cluster.sign(kubernetesClaims(issuer, { aud: ["https://other.example"] })), JWT_BEARER, `${ISSUER}/oauth2/introspect`, { token: access_token }), 401, "invalid_client");
    expect(denied.error_description).toMatch(/aud does not contain/);
    expect((await exchange(clientId, sa, JWT_BEARER, `${ISSUER}/oauth2/revoke`, { token: access_token })).status).toBe(200);
    const after = await exchange(clientId, sa, JWT_BEARER, `${ISSUER}/oauth2/introspect`, { token: access_token });
    expect(await after.json()).toEqual({ active: false });
  });

  it("an access token never outlives the external token", async () => {
    const issuer = `https://${uniqueId("cluster")}.k8s.example`;
    const cluster = await fakeIssuer("RS256");
    await trust({ preset: "kubernetes", issuer, jwks: { keys: [cluster.publicJwk] } });
    const clientId = await client([{ name: "deployer", issuer, subject: "system:serviceaccount:prod:deployer" }]);
    const exp = nowSeconds() + 90;
    const body = await (await exchange(clientId, await cluster.sign(kubernetesClaims(issuer, { exp })))).json<any>();
    expect(decodeJwt(body.access_token).exp).toBeLessThanOrEqual(exp);
    expect(body.expires_in).toBeLessThanOrEqual(90);
  });
});

describe("discovery metadata", () => {
  it("still advertises private_key_jwt (federated clients use it)", async () => {
    const metadata = await (await callWorker("/.well-known/oauth-authorization-server")).json<any>();
    expect(metadata.token_endpoint_auth_methods_supported).toContain("private_key_jwt");
  });
});
