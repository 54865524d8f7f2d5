/** POST /admin/clients/:id/federation/explain (SPEC §9): which credential matched, or why not, consuming nothing. */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { admin, expectOAuthError, JWT_BEARER, postForm, registerClient, uniqueId } from "../helpers.js";
import { fakeIssuer, GITHUB_ISSUER, githubClaims, type FakeIssuer } from "./fake-issuers.js";

let github: FakeIssuer;
let clientId: string;
const main = { name: "main", issuer: GITHUB_ISSUER, subject: "repo:acme/api:ref:refs/heads/main", claims: { repository_id: "123456" } };
const tags = { name: "tags", issuer: GITHUB_ISSUER, subject_pattern: "repo:acme/api:ref:refs/tags/*", claims: { repository_id: "123456" } };

beforeAll(async () => {
  github = await fakeIssuer("RS256");
  await admin("POST", "/admin/trusted-issuers", { preset: "github-actions", jwks: { keys: [github.publicJwk] } });
  const k8s = `https://${uniqueId("cluster")}.example`;
  await admin("POST", "/admin/trusted-issuers", { preset: "kubernetes", issuer: k8s, jwks: { keys: [github.publicJwk] } });
  clientId = uniqueId("explain");
  await registerClient({ client_id: clientId, federated_credentials: [main, tags, { name: "cluster", issuer: k8s, subject: "system:serviceaccount:prod:api" }] });
});

const explain = (assertion: unknown, id = clientId) => admin("POST", `/admin/clients/${id}/federation/explain`, { assertion });

describe("federation explain", () => {
  it("names the matching credential and the rule each other one broke, and consumes nothing", async () => {
    const log = vi.spyOn(console, "log");
    const token = await github.sign(githubClaims());
    const res = await explain(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      matched: "main",
      issuer: GITHUB_ISSUER,
      credentials: [
        { name: "main", result: "match" },
        { name: "tags", result: "federated_sub_pattern_mismatch", description: expect.stringMatching(/subject_pattern/) },
        { name: "cluster", result: "federated_credential_other_issuer", description: expect.any(String) },
      ],
      // SPEC §13: none of these credentials allows the JWT bearer grant.
      jwt_bearer: {
        matched: null,
        failure: { rule: "jwt_bearer_no_credential", description: expect.any(String) },
        credentials: ["main", "tags", "cluster"].map((name) => ({ name, result: "grant_not_allowed", description: "the credential's grants omit jwt_bearer" })),
        other_clients: [],
      },
    });
    expect(log.mock.calls.map((c) => String(c[0])).some((l) => l.includes('"audit":"federation_explained"') && !l.includes(token))).toBe(true);
    log.mockRestore();
    // Nothing was consumed: the same token still gets an access token, once.
    const form = { grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: token };
    expect((await postForm(form)).status).toBe(200);
    // And explain never reports replay (it does not look).
    expect((await (await explain(token)).json<any>()).matched).toBe("main");
  });

  it("reports a failure before any credential: pinned claim, signature, unknown issuer, not a JWT", async () => {
    const pinned = await (await explain(await github.sign(githubClaims({ repository_id: "1" })))).json<any>();
    expect(pinned.matched).toBeNull();
    expect(pinned.credentials[0]).toMatchObject({ name: "main", result: "federated_claim_mismatch", description: expect.stringMatching(/repository_id$/) });

    const forged = await (await fakeIssuer("RS256", github.kid)).sign(githubClaims());
    const bad = await (await explain(forged)).json<any>();
    expect(bad).toMatchObject({ matched: null, failure: { rule: "federated_signature_invalid" } });
    expect(bad.credentials.map((c: any) => c.result)).toEqual(["federated_signature_invalid", "federated_signature_invalid", "federated_credential_other_issuer"]);

    const unknown = await (await explain(await github.sign(githubClaims({ iss: "https://nobody.example" })))).json<any>();
    expect(unknown).toMatchObject({ matched: null, failure: { rule: "federated_issuer_unknown" } });

    const garbage = await (await explain("not-a-jwt")).json<any>();
    expect(garbage).toMatchObject({ matched: null, issuer: null, failure: { rule: "assertion_not_jws" } });
  });

  it("needs the admin token, an existing client and an assertion", async () => {
    await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/federation/explain`, { assertion: "x" }, "wrong"), 401, "invalid_token");
    await expectOAuthError(await explain("x", "no-such-client"), 404, "not_found");
    await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/federation/explain`, {}), 400, "invalid_client_metadata");
  });

  it("says the client is disabled rather than match, for a disabled client (issue 18)", async () => {
    const disabled = uniqueId("explain-off");
    await registerClient({ client_id: disabled, federated_credentials: [main] });
    await admin("PATCH", `/admin/clients/${disabled}`, { disabled: true });
    const answer = await (await explain(await github.sign(githubClaims()), disabled)).json<any>();
    expect(answer).toMatchObject({ matched: null, failure: { rule: "federated_client_disabled", description: expect.stringMatching(/client is disabled/) } });
    expect(answer.credentials).toEqual([{ name: "main", result: "federated_client_disabled", description: expect.stringMatching(/client is disabled/) }]);
  });
});
