/**
 * federated_credentials on client records (SPEC §9): set at create, PATCH, added and removed like
 * keys; an untrusted issuer and every unsafe credential refused with a message that says why.
 */
import { describe, expect, it } from "vitest";
import { admin, expectOAuthError, registerClient, uniqueId } from "../../support/helpers.js";

const GITHUB = "https://token.actions.githubusercontent.com";
const SUB = "repo:acme/api:ref:refs/heads/main";
const deploy = { name: "deploy-main", issuer: GITHUB, subject: SUB, claims: { repository_id: "123456" } };

async function trustGithub() {
  const res = await admin("POST", "/admin/trusted-issuers", { preset: "github-actions" });
  if (res.status !== 201 && res.status !== 409) throw new Error(await res.text());
}

describe("federated credentials on clients", () => {
  it("a client may have only federated credentials (no key of its own) and shows them", async () => {
    await trustGithub();
    const info = await registerClient({ client_id: uniqueId("fed"), federated_credentials: [deploy], scope: "deploy" });
    expect(info.federated_credentials).toEqual([deploy]);
    expect(info.jwks).toBeUndefined();
  });

  it("refuses an untrusted issuer, duplicate names, unsafe credentials and secret clients, naming the field and why", async () => {
    await trustGithub();
    const cases: Array<[unknown[], string | undefined, RegExp]> = [
      [[{ ...deploy, issuer: "https://untrusted.example" }], undefined, /^federated_credentials\.0\.issuer: https:\/\/untrusted\.example is not a trusted issuer/],
      [[deploy, { ...deploy }], undefined, /^federated_credentials\.1\.name: 'deploy-main' is used twice/],
      [[{ ...deploy, claims: undefined }], undefined, /^federated_credentials\.0\.claims: .* is a shared issuer: pin repository_id or repository_owner_id/],
      [[{ ...deploy, subject: undefined, subject_pattern: "*:*" }], undefined, /^federated_credentials\.0\.subject_pattern: is only wildcards/],
      [[{ ...deploy, audience: "https://elsewhere.example" }], undefined, /^federated_credentials\.0\.audience: must be this server's issuer identifier/],
      [[{ ...deploy, subject_pattern: "repo:acme/*" }], undefined, /^federated_credentials\.0\.subject: give exactly one of subject or subject_pattern/],
      [[{ ...deploy, claims: { sub: "x", repository_id: "1" } }], undefined, /^federated_credentials\.0\.claims\.sub: /],
      [[deploy], "client_secret_basic", /^federated_credentials: are for private_key_jwt clients only/],
    ];
    for (const [credentials, method, description] of cases) {
      const res = await admin("POST", "/admin/clients", { client_id: uniqueId("fed"), federated_credentials: credentials, ...(method ? { token_endpoint_auth_method: method } : {}) });
      const body = await expectOAuthError(res, 400, "invalid_client_metadata");
      expect(body.error_description, JSON.stringify(credentials)).toMatch(description);
    }
  });

  it("adds and removes a credential like a key; never the last way to authenticate; PATCH replaces the list", async () => {
    await trustGithub();
    const clientId = uniqueId("fed");
    await registerClient({ client_id: clientId, federated_credentials: [deploy] });
    const second = { name: "deploy-tags", issuer: GITHUB, subject_pattern: "repo:acme/api:ref:refs/tags/*", claims: { repository_owner_id: "42" } };
    const added = await admin("POST", `/admin/clients/${clientId}/federated-credentials`, second);
    expect(added.status).toBe(201);
    expect((await added.json<any>()).federated_credentials.map((c: any) => c.name)).toEqual(["deploy-main", "deploy-tags"]);
    await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/federated-credentials`, second), 409, "conflict");
    const unsafe = await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/federated-credentials`, { ...second, name: "x", claims: {} }), 400, "invalid_client_metadata");
    expect(unsafe.error_description).toMatch(/shared issuer/);

    const removed = await admin("DELETE", `/admin/clients/${clientId}/federated-credentials/deploy-main`);
    expect(removed.status).toBe(200);
    expect((await removed.json<any>()).federated_credentials.map((c: any) => c.name)).toEqual(["deploy-tags"]);
    await expectOAuthError(await admin("DELETE", `/admin/clients/${clientId}/federated-credentials/deploy-main`), 404, "not_found");
    await expectOAuthError(await admin("DELETE", `/admin/clients/${clientId}/federated-credentials/deploy-tags`), 409, "conflict");

    const patched = await admin("PATCH", `/admin/clients/${clientId}`, { federated_credentials: [deploy] });
    expect((await patched.json<any>()).federated_credentials).toEqual([deploy]);
    await expectOAuthError(await admin("PATCH", `/admin/clients/${clientId}`, { federated_credentials: null }), 400, "invalid_client_metadata");
  });

  it("one workload identity may be a credential of several clients", async () => {
    await trustGithub();
    const a = await registerClient({ client_id: uniqueId("fed-a"), federated_credentials: [deploy] });
    const b = await registerClient({ client_id: uniqueId("fed-b"), federated_credentials: [deploy] });
    expect(a.federated_credentials).toEqual(b.federated_credentials);
  });
});
