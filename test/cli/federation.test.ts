/** `ets trusted-issuers …`, `ets clients add/remove-federated-credential`, `ets federation explain` (SPEC §9). */
import { describe, expect, it } from "vitest";
import { fakeIssuer, GITHUB_ISSUER, githubClaims, kubernetesClaims } from "../federation/fake-issuers.js";
import { JWT_BEARER, postForm, uniqueId } from "../helpers.js";
import { cliHarness, fields } from "./harness.js";

describe("ets trusted-issuers", () => {
  it("adds a preset in one command, lists, shows and removes it", async () => {
    const cli = cliHarness();
    const github = await fakeIssuer("RS256");
    cli.files.set("gh.jwks.json", { text: JSON.stringify({ keys: [github.publicJwk] }), mode: 0o644 });
    const added = await cli.ok("trusted-issuers", "add", "--preset", "github-actions", "--jwks-file", "gh.jwks.json");
    expect(fields(added.stdout)).toMatchObject({ issuer: GITHUB_ISSUER, keys: "inline jwks", jti_policy: "single_use" });
    expect(added.stdout).toMatch(/must pin repository_id or repository_owner_id/);
    expect((await cli.ok("trusted-issuers", "list")).stdout).toContain(GITHUB_ISSUER);
    expect(JSON.parse((await cli.ok("trusted-issuers", "show", GITHUB_ISSUER)).stdout)).toMatchObject({ issuer: GITHUB_ISSUER, shared: true });
    const refused = await cli.run("trusted-issuers", "add", "--preset", "kubernetes", "--issuer", "https://k.example");
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/400 invalid_request: jwks_uri: how the issuer's keys are found is required/) });
    expect((await cli.run("trusted-issuers", "add", "--preset", "nope")).code).toBe(2);
    expect((await cli.ok("trusted-issuers", "remove", GITHUB_ISSUER)).stdout).toMatch(/no longer trusted/);
    expect((await cli.run("trusted-issuers", "show", GITHUB_ISSUER)).stderr).toMatch(/404 not_found/);
  });

  it("an issuer without a preset is shared unless --not-shared (issue 18)", async () => {
    const cli = cliHarness();
    const idp = await fakeIssuer("RS256");
    cli.files.set("idp.jwks.json", { text: JSON.stringify({ keys: [idp.publicJwk] }), mode: 0o644 });
    const issuer = `https://${uniqueId("idp")}.example`;
    const refused = await cli.run("trusted-issuers", "add", "--issuer", issuer, "--jwks-file", "idp.jwks.json");
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/400 invalid_request: immutable_claims: a shared issuer needs/) });
    const added = await cli.ok("trusted-issuers", "add", "--issuer", issuer, "--jwks-file", "idp.jwks.json", "--not-shared");
    expect(fields(added.stdout)).toMatchObject({ issuer, shared: "false" });
    expect((await cli.run("trusted-issuers", "add", "--issuer", issuer, "--shared", "--not-shared")).code).toBe(2);
  });
});

describe("ets clients add-federated-credential and ets federation explain", () => {
  it("adds a Kubernetes credential, explains a token, the token works, then removes it", async () => {
    const cli = cliHarness();
    const cluster = await fakeIssuer("RS256");
    const issuer = `https://${uniqueId("cluster")}.example`;
    cli.files.set("k.jwks.json", { text: JSON.stringify({ keys: [cluster.publicJwk] }), mode: 0o644 });
    await cli.ok("trusted-issuers", "add", "--preset", "kubernetes", "--issuer", issuer, "--jwks-file", "k.jwks.json");
    const { client_id } = fields((await cli.ok("clients", "create", "--name", "deployer", "--out", "own.json")).stdout);
    const added = await cli.ok("clients", "add-federated-credential", client_id!, "--name", "deployer", "--issuer", issuer, "--subject", "system:serviceaccount:prod:deployer");
    expect(added.stdout).toMatch(/federated_credentials: deployer/);
    const unsafe = await cli.run("clients", "add-federated-credential", client_id!, "--name", "d", "--issuer", issuer, "--subject", "system:serviceaccount:prod:default");
    expect(unsafe).toMatchObject({ code: 1, stderr: expect.stringMatching(/default service account/) });
    expect((await cli.ok("clients", "add-federated-credential", client_id!, "--name", "d", "--issuer", issuer, "--subject", "system:serviceaccount:prod:default", "--allow-default-service-account")).code).toBe(0);

    const token = await cluster.sign(kubernetesClaims(issuer));
    cli.files.set("token.jwt", { text: `${token}\n`, mode: 0o600 });
    const explained = await cli.ok("federation", "explain", "--client-id", client_id!, "--token-file", "token.jwt");
    expect(explained.stdout).toMatch(/^matched: deployer$/m);
    expect(explained.stdout).toMatch(/^ {2}d: federated_sub_mismatch/m);
    cli.stdin = await cluster.sign(kubernetesClaims(issuer, { sub: "system:serviceaccount:prod:other" }));
    // Nothing matches: the explanation, and exit code 1, so `ets federation explain … && deploy` stops.
    const unmatched = await cli.run("federation", "explain", "--client-id", client_id!, "--token-file", "-");
    expect(unmatched).toMatchObject({ code: 1, stdout: expect.stringMatching(/^matched: none$/m), stderr: `ets: no federated credential of ${client_id} accepts this token\n` });

    const res = await postForm({ grant_type: "client_credentials", client_id: client_id!, client_assertion_type: JWT_BEARER, client_assertion: token });
    expect(res.status).toBe(200);
    expect((await cli.ok("clients", "remove-federated-credential", client_id!, "--name", "d")).stdout).toMatch(/removed d; remaining: deployer/);
    expect((await cli.run("clients", "add-federated-credential", client_id!, "--name", "x", "--issuer", issuer)).code).toBe(2);
  });

  it("creates a client with only a federated credential in one command", async () => {
    const cli = cliHarness();
    const github = await fakeIssuer("RS256");
    cli.files.set("gh.jwks.json", { text: JSON.stringify({ keys: [github.publicJwk] }), mode: 0o644 });
    await cli.run("trusted-issuers", "add", "--preset", "github-actions", "--jwks-file", "gh.jwks.json");
    const clientId = uniqueId("ci");
    const api = "https://api.example.com/deployments";
    const created = await cli.ok("clients", "create-federated", "--name", "ci", "--client-id", clientId, "--scope", "deploy", "--resource", api, "--credential-name", "main", "--issuer", GITHUB_ISSUER, "--subject", "repo:acme/api:ref:refs/heads/main", "--claim", "repository_id=123456");
    expect(fields(created.stdout)).toMatchObject({ client_id: clientId, federated_credentials: "main" });
    expect(cli.files.size).toBe(1); // no key file written
    expect(JSON.parse((await cli.ok("clients", "show", clientId)).stdout)).toMatchObject({ resources: [api] });
    // The workload's token for the API it calls (RFC 8707 `resource` → `aud`), as docs/federation.md's workflow asks.
    const res = await postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: await github.sign(githubClaims()), resource: api });
    const body = await res.json<{ scope: string; access_token: string }>();
    expect(body).toMatchObject({ scope: "deploy" });
    expect(JSON.parse(atob(body.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({ aud: api });
    await cli.ok("trusted-issuers", "remove", GITHUB_ISSUER);
  });

  it("pins a GitHub credential with --claim", async () => {
    const cli = cliHarness();
    const github = await fakeIssuer("RS256");
    cli.files.set("gh.jwks.json", { text: JSON.stringify({ keys: [github.publicJwk] }), mode: 0o644 });
    await cli.run("trusted-issuers", "add", "--preset", "github-actions", "--jwks-file", "gh.jwks.json");
    const { client_id } = fields((await cli.ok("clients", "create", "--name", "ci", "--out", "ci.json")).stdout);
    const noPin = await cli.run("clients", "add-federated-credential", client_id!, "--name", "main", "--issuer", GITHUB_ISSUER, "--subject", "repo:acme/api:ref:refs/heads/main");
    expect(noPin.stderr).toMatch(/shared issuer: pin repository_id or repository_owner_id/);
    await cli.ok("clients", "add-federated-credential", client_id!, "--name", "main", "--issuer", GITHUB_ISSUER, "--subject", "repo:acme/api:ref:refs/heads/main", "--claim", "repository_id=123456");
    const res = await postForm({ grant_type: "client_credentials", client_id: client_id!, client_assertion_type: JWT_BEARER, client_assertion: await github.sign(githubClaims()) });
    expect(res.status).toBe(200);
  });
});
