/**
 * A GitHub Actions OIDC token as client assertion (SPEC §9): accepted for a client whose
 * credential it matches, and each rule refused with its own error_description.
 */
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { admin, expectOAuthError, ISSUER, JWT_BEARER, nowSeconds, postForm, registerClient, uniqueId } from "../helpers.js";
import { fakeIssuer, GITHUB_ISSUER, githubClaims, signWith, type FakeIssuer } from "./fake-issuers.js";

let github: FakeIssuer;
const SUB = "repo:acme/api:ref:refs/heads/main";
const credential = { name: "deploy-main", issuer: GITHUB_ISSUER, subject: SUB, claims: { repository_id: "123456" } };

beforeAll(async () => {
  github = await fakeIssuer("RS256");
  const res = await admin("POST", "/admin/trusted-issuers", { preset: "github-actions", jwks: { keys: [github.publicJwk] } });
  expect(res.status).toBe(201);
});

async function federatedClient(credentials: unknown[] = [credential], extra: Record<string, unknown> = {}): Promise<string> {
  const clientId = uniqueId("gh");
  await registerClient({ client_id: clientId, federated_credentials: credentials, scope: "deploy", ...extra });
  return clientId;
}

export function exchange(clientId: string, assertion: string, extra: Record<string, string> = {}, url?: string): Promise<Response> {
  return postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra }, {}, url);
}

describe("GitHub Actions tokens as client assertions", () => {
  it("issues an access token for the client (sub = client_id), never outliving the GitHub token; single use; audit line without the token", async () => {
    const clientId = await federatedClient();
    const log = vi.spyOn(console, "log");
    const claims = githubClaims({ exp: nowSeconds() + 120 });
    const assertion = await github.sign(claims);
    const res = await exchange(clientId, assertion);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ token_type: "Bearer", scope: "deploy" });
    const token = decodeJwt(body.access_token);
    expect(token).toMatchObject({ sub: clientId, client_id: clientId, iss: ISSUER });
    expect(token.exp).toBeLessThanOrEqual(claims.exp as number);
    expect(body.expires_in).toBeLessThanOrEqual(120);
    // SPEC §9 + §11: the token_issued audit line names the workload.
    const lines = log.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"audit":"token_issued"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ client_id: clientId, issuer: GITHUB_ISSUER, subject: SUB, credential: "deploy-main", token_jti: token.jti });
    expect(lines[0]).not.toContain(assertion.split(".")[2]);
    log.mockRestore();

    const again = await expectOAuthError(await exchange(clientId, assertion), 401, "invalid_client");
    expect(again.error_description).toMatch(/jti has already been used \(this issuer's tokens are single use\)/);
  });

  it("usage counts each client's federated tokens exactly (counted in the issuer's replay-guard objects), and a quota applies", async () => {
    const [a, b] = [await federatedClient(), await federatedClient([credential], { token_quota: { limit: 2, window: 86_400 } })];
    for (let i = 0; i < 3; i++) expect((await exchange(a, await github.sign(githubClaims()))).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await exchange(b, await github.sign(githubClaims()))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const total = async (id: string) => (await (await admin("GET", `/admin/clients/${id}/usage`)).json<any>()).hours.reduce((n: number, h: any) => n + h.issued, 0);
    expect(await total(a)).toBe(3);
    expect(await total(b)).toBe(2);
  });

  it("a token is single use per issuer, across clients that trust it", async () => {
    const [a, b] = [await federatedClient(), await federatedClient()];
    const assertion = await github.sign(githubClaims());
    expect((await exchange(a, assertion)).status).toBe(200);
    const body = await expectOAuthError(await exchange(b, assertion), 401, "invalid_client");
    expect(body.error_description).toMatch(/already been used/);
  });

  it("a subject_pattern admits a matching branch but * never crosses / or :", async () => {
    const clientId = await federatedClient([{ ...credential, subject: undefined, subject_pattern: "repo:acme/api:ref:refs/heads/*" }]);
    expect((await exchange(clientId, await github.sign(githubClaims({ sub: "repo:acme/api:ref:refs/heads/release" })))).status).toBe(200);
    for (const sub of ["repo:acme/api:ref:refs/heads/feature/x", "repo:acme/api:environment:prod"]) {
      const body = await expectOAuthError(await exchange(clientId, await github.sign(githubClaims({ sub }))), 401, "invalid_client");
      expect(body.error_description).toMatch(/does not match the credential's subject_pattern/);
    }
  });

  it("one identity, several clients: client_id picks which", async () => {
    const [a, b] = [await federatedClient(), await federatedClient()];
    const ta = decodeJwt((await (await exchange(a, await github.sign(githubClaims()))).json<any>()).access_token);
    const tb = decodeJwt((await (await exchange(b, await github.sign(githubClaims()))).json<any>()).access_token);
    expect([ta.client_id, tb.client_id]).toEqual([a, b]);
  });

  // One case per rule family; the claim edges (exp, iat, nbf, jti, aud arrays, pinned values as
  // numbers) are pinned in test/oauth/federation/federated-claims.test.ts.
  it("refuses each rule with its own error_description", async () => {
    const clientId = await federatedClient();
    const other = await fakeIssuer("RS256", github.kid);
    const es = await fakeIssuer("ES256", github.kid);
    const now = nowSeconds();
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ["unknown issuer", github.sign(githubClaims({ iss: "https://untrusted.example" })), /its issuer \(iss\) is not a trusted issuer/],
      ["signature", other.sign(githubClaims()), /federated client_assertion signature verification failed/],
      ["alg", es.sign(githubClaims()), /alg is not one of the trusted issuer's allowed_algs/],
      ["kid", github.sign(githubClaims(), { kid: "unknown-kid" }), /no key of the trusted issuer matches/],
      ["aud", github.sign(githubClaims({ aud: "https://vault.example.com" })), /aud does not contain the credential's audience/],
      ["expired", github.sign(githubClaims({ iat: now - 600, nbf: now - 600, exp: now - 60 })), /has expired/],
      ["lifetime", github.sign(githubClaims({ iat: now - 3000, exp: now + 700 })), /lifetime \(exp - iat\) exceeds the issuer's max_token_lifetime/],
      ["sub", github.sign(githubClaims({ sub: "repo:acme/api:ref:refs/heads/dev" })), /sub differs from the credential's subject/],
      ["repository_id", github.sign(githubClaims({ repository_id: "999" })), /claim differs from the credential's pinned value: repository_id$/],
      ["jti missing", github.sign(githubClaims({ jti: undefined })), /has no jti, and the trusted issuer's tokens are single use/],
      ["crit", github.sign(githubClaims(), { crit: ["b64"], b64: true }), /crit header/],
    ];
    const seen = new Set<string>();
    for (const [name, assertion, description] of cases) {
      const body = await expectOAuthError(await exchange(clientId, await assertion), 401, "invalid_client");
      expect(body.error_description, name).toMatch(description);
      expect(body.error_description, name).not.toContain("123456");
      seen.add(body.error_description);
    }
    expect(seen.size).toBe(cases.length);
  });

  it("a client without a credential for the issuer, a disabled client, an unknown client", async () => {
    const issuer = `https://${uniqueId("idp")}.example`;
    await admin("POST", "/admin/trusted-issuers", { issuer, jwks: { keys: [github.publicJwk] }, shared: false });
    const clientId = await federatedClient([{ name: "other", issuer, subject: "workload" }]);
    const body = await expectOAuthError(await exchange(clientId, await github.sign(githubClaims())), 401, "invalid_client");
    expect(body.error_description).toMatch(/the client has no federated credential for this issuer/);
    // Which issuers a client has credentials for is told only to a token the issuer really signed.
    const forged = await (await fakeIssuer("RS256", github.kid)).sign(githubClaims());
    const forgedBody = await expectOAuthError(await exchange(clientId, forged), 401, "invalid_client");
    expect(forgedBody.error_description).toMatch(/federated client_assertion signature verification failed/);

    const disabled = await federatedClient();
    await admin("PATCH", `/admin/clients/${disabled}`, { disabled: true });
    const unknown = await expectOAuthError(await exchange("no-such-client", await github.sign(githubClaims())), 401, "invalid_client");
    const off = await expectOAuthError(await exchange(disabled, await github.sign(githubClaims())), 401, "invalid_client");
    expect(off).toEqual(unknown);
  });

  it("several credentials for one issuer: the first that matches; none → a pointer to explain", async () => {
    const clientId = await federatedClient([
      { ...credential, name: "tags", subject: "repo:acme/api:ref:refs/tags/v1" },
      { ...credential, name: "main" },
    ]);
    expect((await exchange(clientId, await github.sign(githubClaims()))).status).toBe(200);
    const body = await expectOAuthError(await exchange(clientId, await github.sign(githubClaims({ sub: "repo:acme/api:ref:refs/heads/x" }))), 401, "invalid_client");
    expect(body.error_description).toMatch(/no federated credential of this client matches.*explain/);
  });

  it("the client's own keys keep working beside its federated credentials", async () => {
    const own = await fakeIssuer("ES256");
    const clientId = await federatedClient([credential], { jwks: { keys: [own.publicJwk] } });
    const now = nowSeconds();
    const assertion = await signWith(own.privateKey, { iss: clientId, sub: clientId, aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() }, { alg: "ES256", kid: own.kid });
    expect((await exchange(clientId, assertion)).status).toBe(200);
    expect((await exchange(clientId, await github.sign(githubClaims()))).status).toBe(200);
  });
});
