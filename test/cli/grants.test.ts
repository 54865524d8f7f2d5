/** `--grant` on `ets clients create-federated` / `add-federated-credential`, and explain's view of the JWT bearer grant (SPEC §13). */
import { describe, expect, it } from "vitest";
import { JWT_BEARER_GRANT as JWT_BEARER_GRANT_TYPE } from "../../src/core/protocol.js";
import { fakeIssuer, kubernetesClaims } from "../federation/fake-issuers.js";
import { postForm, uniqueId } from "../helpers.js";
import { cliHarness, fields } from "./harness.js";

describe("ets and the JWT bearer grant", () => {
  it("creates a credential that allows the grant, explains a token for it, and the workload gets a token without client_id", async () => {
    const cli = cliHarness();
    const cluster = await fakeIssuer("RS256");
    const issuer = `https://${uniqueId("cluster")}.example`;
    cli.files.set("k.jwks.json", { text: JSON.stringify({ keys: [cluster.publicJwk] }), mode: 0o644 });
    await cli.ok("trusted-issuers", "add", "--preset", "kubernetes", "--issuer", issuer, "--jwks-file", "k.jwks.json");
    const clientId = uniqueId("wl");
    const created = await cli.ok("clients", "create-federated", "--name", "agent", "--client-id", clientId, "--scope", "mcp:tools", "--credential-name", "agent", "--issuer", issuer, "--subject", "system:serviceaccount:prod:agent", "--grant", "jwt_bearer");
    expect(fields(created.stdout)).toMatchObject({ client_id: clientId, federated_credentials: "agent" });
    const info = JSON.parse((await cli.ok("--json", "clients", "add-federated-credential", clientId, "--name", "both", "--issuer", issuer, "--subject", "system:serviceaccount:prod:both", "--grant", "client_assertion", "--grant", "jwt_bearer")).stdout);
    expect(info.federated_credentials).toEqual([
      expect.objectContaining({ name: "agent", grants: ["jwt_bearer"] }),
      expect.objectContaining({ name: "both", grants: ["client_assertion", "jwt_bearer"] }),
    ]);
    expect(await cli.run("clients", "add-federated-credential", clientId, "--name", "x", "--issuer", issuer, "--subject", "s", "--grant", "password")).toMatchObject({ code: 2, stderr: expect.stringMatching(/--grant must be one of client_assertion, jwt_bearer/) });

    const token = await cluster.sign(kubernetesClaims(issuer, { sub: "system:serviceaccount:prod:agent" }));
    cli.files.set("token.jwt", { text: token, mode: 0o600 });
    const explained = await cli.ok("federation", "explain", "--client-id", clientId, "--token-file", "token.jwt");
    expect(explained.stdout).toMatch(/^jwt-bearer grant: agent$/m);
    expect(explained.stdout).toMatch(/^ {2}agent: federated_credential_grant_not_allowed/m);

    const res = await postForm({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: token });
    expect(await res.json()).toMatchObject({ token_type: "Bearer", scope: "mcp:tools" });
  });
});
