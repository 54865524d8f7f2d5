import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { expectOAuthError, ISSUER, TOKEN_URL, tokenWithAssertion } from "../../support/helpers.js";
import { cliHarness, fields } from "../../support/cli-harness.js";

async function keyClient(cli = cliHarness(), extra: string[] = []) {
  const { client_id } = fields((await cli.ok("clients", "create", "--name", "assertion", "--out", "key.json", "--scope", "read write", ...extra)).stdout);
  return { cli, clientId: client_id! };
}

describe("ets assertion", () => {
  it("prints a valid client assertion: iss = sub = client_id, aud = the discovered issuer, 60 s, random jti", async () => {
    const { cli, clientId } = await keyClient();
    const { stdout } = await cli.ok("assertion", "--client-id", clientId, "--key", "key.json");
    const assertion = stdout.trim();
    expect(stdout).toBe(`${assertion}\n`);
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({ iss: clientId, sub: clientId, aud: ISSUER });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    const kid = JSON.parse(cli.files.get("key.json")!.text).kid;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: "ES256", typ: "client-authentication+jwt", kid });
    expect((await tokenWithAssertion(assertion)).status).toBe(200);
    // Single use, as every assertion.
    await expectOAuthError(await tokenWithAssertion(assertion), 401, "invalid_client");
  });

  it("honours --aud, --lifetime and --typ", async () => {
    const { cli, clientId } = await keyClient();
    const { stdout } = await cli.ok("assertion", "--client-id", clientId, "--key", "key.json", "--aud", ISSUER, "--lifetime", "120", "--typ", "JWT");
    const claims = decodeJwt(stdout.trim());
    expect(claims.aud).toBe(ISSUER);
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(decodeProtectedHeader(stdout.trim()).typ).toBe("JWT");
    expect((await tokenWithAssertion(stdout.trim())).status).toBe(200);
  });

  it("signs client_secret_jwt assertions with --secret", async () => {
    const cli = cliHarness();
    const { client_id, client_secret } = fields((await cli.ok("clients", "create", "--name", "hs", "--auth", "client_secret_jwt")).stdout);
    const { stdout } = await cli.ok("assertion", "--client-id", client_id!, "--secret", client_secret!);
    expect(decodeProtectedHeader(stdout.trim()).alg).toBe("HS256");
    expect((await tokenWithAssertion(stdout.trim())).status).toBe(200);
  });

  it("explains an unusable key file in one line", async () => {
    const cli = cliHarness();
    cli.files.set("public.json", { text: JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" }), mode: 0o644 });
    cli.files.set("garbage.json", { text: "hello", mode: 0o644 });
    expect(await cli.run("assertion", "--client-id", "c", "--key", "public.json")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ets: public\.json: .*private key/) });
    expect(await cli.run("assertion", "--client-id", "c", "--key", "garbage.json")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ets: garbage\.json: the key is neither a JWK/) });
    expect(await cli.run("assertion", "--client-id", "c", "--key", "missing.json")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ets: cannot read the key file missing\.json/) });
    expect((await cli.run("assertion", "--client-id", "c")).code).toBe(2);
    expect((await cli.run("assertion", "--key", "garbage.json")).code).toBe(2);
  });
});

describe("ets token", () => {
  it("runs the client_credentials request and prints the token response", async () => {
    const { cli, clientId } = await keyClient();
    const { stdout } = await cli.ok("token", "--client-id", clientId, "--key", "key.json", "--scope", "read");
    const response = JSON.parse(stdout);
    expect(response).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "read" });
    expect(decodeJwt(response.access_token)).toMatchObject({ iss: ISSUER, sub: clientId, scope: "read" });
    const request = cli.requests.at(-1)!;
    expect(request.url).toBe(TOKEN_URL);
    const form = new URLSearchParams(await formText(request));
    expect(form.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    expect(form.get("client_id")).toBe(clientId);
  });

  it("prints the server's error in one line with exit code 1", async () => {
    const { cli, clientId } = await keyClient();
    const { code, stdout, stderr } = await cli.run("token", "--client-id", clientId, "--key", "key.json", "--scope", "admin");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe("ets: token endpoint: 400 invalid_scope: a requested scope is not among the client's registered scopes\n");
  });

  it("sends a client_secret_basic request with the form-urlencoded Basic credentials", async () => {
    const cli = cliHarness();
    const { client_id, client_secret } = fields((await cli.ok("clients", "create", "--name", "b", "--auth", "client_secret_basic", "--scope", "read")).stdout);
    cli.env.ETS_CLIENT_SECRET = client_secret;
    await cli.ok("token", "--client-id", client_id!);
    const request = cli.requests.at(-1)!;
    expect(request.headers.get("Authorization")).toBe(`Basic ${btoa(`${client_id}:${client_secret}`)}`);
    expect(await formText(request)).toBe("grant_type=client_credentials");
  });

  it("refuses contradictory options", async () => {
    const { cli, clientId } = await keyClient();
    expect((await cli.run("token", "--client-id", clientId, "--key", "key.json", "--secret", "s")).code).toBe(2);
    expect((await cli.run("token", "--client-id", clientId, "--key", "key.json", "--auth", "client_secret_post")).code).toBe(2);
    expect((await cli.run("token", "--client-id", clientId, "--secret", "s", "--auth", "private_key_jwt")).code).toBe(2);
    expect((await cli.run("token", "--client-id", clientId, "--key", "key.json", "--resource", "a", "--resource", "b")).code).toBe(2);
  });
});

/** A form body as text (workerd warns when .text() reads a body whose Content-Type is not text/*). */
async function formText(request: Request): Promise<string> {
  return new TextDecoder().decode(await request.arrayBuffer());
}
