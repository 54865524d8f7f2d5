/**
 * /admin/trusted-issuers (SPEC §9): presets, schema refusals naming the field, PATCH and DELETE
 * by the URL-encoded issuer, and no lost writes under concurrent changes (the writer of record).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, expectOAuthError, ISSUER, uniqueId } from "../helpers.js";
import { trustedIssuerKey } from "../../src/stores/kv-keys.js";

const GITHUB = "https://token.actions.githubusercontent.com";
const path = (issuer: string) => `/admin/trusted-issuers/${encodeURIComponent(issuer)}`;
const cluster = () => `https://${uniqueId("cluster")}.k8s.example`;

describe("trusted issuers: create, read, change, delete", () => {
  it("the github-actions preset is one call: discovery, RS256, shared, single use, pinned on ids", async () => {
    const res = await admin("POST", "/admin/trusted-issuers", { preset: "github-actions" });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(path(GITHUB));
    expect(await res.json()).toMatchObject({
      issuer: GITHUB,
      preset: "github-actions",
      discovery: true,
      allowed_algs: ["RS256"],
      max_token_lifetime: 3600,
      shared: true,
      immutable_claims: ["repository_id", "repository_owner_id"],
      jti_policy: "single_use",
    });
    expect(await env.CLIENTS.get(trustedIssuerKey(GITHUB), "json")).toMatchObject({ issuer: GITHUB });
    const again = await admin("POST", "/admin/trusted-issuers", { preset: "github-actions" });
    await expectOAuthError(again, 409, "conflict");
    const show = await admin("GET", path(GITHUB));
    expect(show.status).toBe(200);
    expect(await show.json()).toMatchObject({ issuer: GITHUB });
    const list = await (await admin("GET", "/admin/trusted-issuers")).json<any>();
    expect(list.trusted_issuers.map((i: any) => i.issuer)).toContain(GITHUB);
  });

  it("gitlab and kubernetes presets; kubernetes tokens are reusable and its issuer unshared", async () => {
    const gitlab = await admin("POST", "/admin/trusted-issuers", { preset: "gitlab" });
    expect(await gitlab.json()).toMatchObject({ issuer: "https://gitlab.com", discovery: true, shared: true, immutable_claims: ["project_id", "namespace_id"] });
    const issuer = cluster();
    const k8s = await admin("POST", "/admin/trusted-issuers", { preset: "kubernetes", issuer, jwks_uri: `${issuer}/openid/v1/jwks` });
    expect(k8s.status).toBe(201);
    expect(await k8s.json()).toMatchObject({ issuer, jwks_uri: `${issuer}/openid/v1/jwks`, shared: false, jti_policy: "reuse" });
  });

  it("refuses, naming the field: no key source, two key sources, http, a shared issuer made unshared, a shared issuer without immutable claims", async () => {
    const issuer = cluster();
    const cases: Array<[unknown, RegExp]> = [
      [{ preset: "kubernetes", issuer }, /^jwks_uri: how the issuer's keys are found is required/],
      [{ issuer, jwks_uri: `${issuer}/jwks`, discovery: true }, /^jwks_uri: give exactly one of/],
      [{ issuer: "http://idp.example", discovery: true }, /^issuer: must be an https:\/\/ URL/],
      [{ issuer, jwks_uri: "http://idp.example/jwks" }, /^jwks_uri: must be an https:\/\/ URL this server may fetch/],
      [{ issuer: "https://127.0.0.1:8443", discovery: true }, /^issuer: its discovery document must be/],
      [{ preset: "github-actions", shared: false }, /^shared: .* is a multi-tenant issuer/],
      [{ issuer: GITHUB, discovery: true, shared: false }, /^shared: .* is a multi-tenant issuer/],
      [{ issuer, discovery: true, shared: true }, /^immutable_claims: a shared issuer needs/],
      [{ issuer, discovery: true, allowed_algs: ["HS256"] }, /^allowed_algs\.0: /],
      [{ issuer, discovery: true, max_token_lifetime: 10 }, /^max_token_lifetime: /],
      [{ issuer, discovery: true, jti_policy: "sometimes" }, /^jti_policy: /],
      [{ issuer: "spiffe://example.org", discovery: true }, /^issuer: a spiffe:\/\/ trust domain is an issuer only/],
      [{ issuer: `${issuer}?x=1`, discovery: true }, /^issuer: must not have a query or fragment/],
      [{ issuer, discovery: true, surprise: 1 }, /surprise|Unrecognized key/],
      [{ discovery: true }, /^issuer: is required/],
    ];
    for (const [body, description] of cases) {
      const res = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", body), 400, "invalid_request");
      expect(res.error_description, JSON.stringify(body)).toMatch(description);
    }
  });

  it("PATCH by URL-encoded issuer: a new key source replaces the old, null returns to the preset default; DELETE then 404", async () => {
    const issuer = cluster();
    await admin("POST", "/admin/trusted-issuers", { preset: "kubernetes", issuer, jwks_uri: `${issuer}/jwks` });
    const patched = await admin("PATCH", path(issuer), { discovery: true, max_token_lifetime: 7200 });
    expect(patched.status).toBe(200);
    const body = await patched.json<any>();
    expect(body).toMatchObject({ discovery: true, max_token_lifetime: 7200, jti_policy: "reuse" });
    expect(body.jwks_uri).toBeUndefined();
    const reset = await (await admin("PATCH", path(issuer), { max_token_lifetime: null })).json<any>();
    expect(reset.max_token_lifetime).toBe(3600);
    await expectOAuthError(await admin("PATCH", path(issuer), { issuer: "https://other.example" }), 400, "invalid_request");
    expect((await admin("DELETE", path(issuer))).status).toBe(204);
    await expectOAuthError(await admin("GET", path(issuer)), 404, "not_found");
    await expectOAuthError(await admin("DELETE", path(issuer)), 404, "not_found");
  });

  it("needs the admin token", async () => {
    await expectOAuthError(await admin("GET", "/admin/trusted-issuers", undefined, "wrong"), 401, "invalid_token");
    await expectOAuthError(await admin("POST", "/admin/trusted-issuers", { preset: "gitlab" }, "wrong"), 401, "invalid_token");
  });

  it("loses no write: 10 concurrent PATCHes of different fields all land", async () => {
    const issuer = cluster();
    await admin("POST", "/admin/trusted-issuers", { issuer, jwks_uri: `${issuer}/jwks`, shared: false });
    const changes = [
      { max_token_lifetime: 600 },
      { jti_policy: "reuse" },
      { allowed_algs: ["ES256"] },
      { preset: "kubernetes" },
      { immutable_claims: ["tenant_id"] },
    ];
    const results = await Promise.all(changes.map((change) => admin("PATCH", path(issuer), change)));
    expect(results.map((r) => r.status)).toEqual(changes.map(() => 200));
    const final = await (await admin("GET", path(issuer))).json<any>();
    expect(final).toMatchObject({ max_token_lifetime: 600, jti_policy: "reuse", allowed_algs: ["ES256"], preset: "kubernetes", immutable_claims: ["tenant_id"] });
  });
});

describe("trusted issuers: what a record can never weaken (issue 18)", () => {
  it("an issuer without a preset is shared unless the operator says shared: false", async () => {
    const saas = "https://app.terraform.io";
    const refused = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", { issuer: saas, discovery: true }), 400, "invalid_request");
    expect(refused.error_description).toMatch(/^immutable_claims: a shared issuer needs .*without a preset is shared unless .shared.: false/);
    const pinned = await admin("POST", "/admin/trusted-issuers", { issuer: saas, discovery: true, immutable_claims: ["terraform_organization_id"] });
    expect(await pinned.json()).toMatchObject({ issuer: saas, shared: true, immutable_claims: ["terraform_organization_id"] });
    const own = cluster();
    expect(await (await admin("POST", "/admin/trusted-issuers", { issuer: own, discovery: true, shared: false })).json()).toMatchObject({ issuer: own, shared: false });
  });

  it("the GitHub and GitLab presets keep their immutable-id pins and single_use, at creation and by PATCH", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ preset: "github-actions", immutable_claims: ["repository_owner_id"] }, /^immutable_claims: .*must include repository_id/],
      [{ preset: "github-actions", immutable_claims: ["repository_id", "environment"] }, /^immutable_claims: .*only repository_id, repository_owner_id/],
      [{ preset: "github-actions", jti_policy: "reuse" }, /^jti_policy: .*single use/],
      [{ issuer: GITHUB, discovery: true, jti_policy: "reuse" }, /^jti_policy: .*single use/],
      [{ preset: "gitlab", immutable_claims: ["namespace_path"] }, /^immutable_claims: .*must include project_id/],
      [{ preset: "gitlab", issuer: "https://gitlab.example.com", jti_policy: "reuse" }, /^jti_policy: .*single use/],
    ];
    for (const [body, description] of cases) {
      const res = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", body), 400, "invalid_request");
      expect(res.error_description, JSON.stringify(body)).toMatch(description);
    }
    await admin("POST", "/admin/trusted-issuers", { preset: "github-actions" });
    for (const patch of [{ jti_policy: "reuse" }, { immutable_claims: ["environment"] }, { preset: null, jti_policy: "reuse" }]) {
      await expectOAuthError(await admin("PATCH", path(GITHUB), patch), 400, "invalid_request");
    }
    const narrowed = await admin("PATCH", path(GITHUB), { immutable_claims: ["repository_id"] });
    expect(await narrowed.json()).toMatchObject({ immutable_claims: ["repository_id"], jti_policy: "single_use", shared: true });
    await admin("DELETE", path(GITHUB));
  });

  it("this server's own issuer is never a trusted issuer", async () => {
    for (const body of [{ issuer: ISSUER, discovery: true, shared: false }, { issuer: `${ISSUER}/`, jwks_uri: `${ISSUER}/.well-known/jwks.json`, shared: false }, { preset: "kubernetes", issuer: `${ISSUER}/tenant`, jwks_uri: "https://keys.example/jwks" }]) {
      const res = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", body), 400, "invalid_request");
      expect(res.error_description, JSON.stringify(body)).toMatch(/^issuer: is this server's own issuer/);
    }
  });

  it("a change re-checks the credentials that name the issuer, and refuses one that would make them unsafe, naming them", async () => {
    const issuer = cluster();
    await admin("POST", "/admin/trusted-issuers", { issuer, jwks_uri: `${issuer}/jwks`, shared: false });
    const clientId = uniqueId("recheck");
    const reg = await admin("POST", "/admin/clients", { client_id: clientId, federated_credentials: [{ name: "ci", issuer, subject: "workload-a" }] });
    expect(reg.status).toBe(201);
    // Made shared: the credential pins no immutable claim, so it would admit another tenant's workload-a.
    const refused = await expectOAuthError(await admin("PATCH", path(issuer), { shared: true, immutable_claims: ["tenant_id"] }), 409, "conflict");
    expect(refused.error_description).toMatch(new RegExp(`${clientId}/ci \\(claims: `));
    expect((await (await admin("GET", path(issuer))).json<any>()).shared).toBe(false);
    // A change no credential breaks goes through.
    expect((await admin("PATCH", path(issuer), { max_token_lifetime: 600 })).status).toBe(200);
    // Delete and re-create under weaker terms is a change too.
    expect((await admin("DELETE", path(issuer))).status).toBe(204);
    const recreated = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", { issuer, jwks_uri: `${issuer}/jwks`, immutable_claims: ["tenant_id"] }), 409, "conflict");
    expect(recreated.error_description).toContain(`${clientId}/ci`);
  });
});
