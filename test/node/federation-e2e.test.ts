/**
 * Federation end to end, from outside the Worker as a CI job does it (SPEC §9, §8): a fake OIDC
 * issuer on a loopback port (discovery + JWKS over plain http, accepted in local dev only), the
 * Worker as `wrangler dev`, the operator's steps with `node src/cli/bin.js` (the `ets` binary), and
 * the job's token exchange with `curl`.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT, decodeJwt } from "jose";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startLocalWorker, type LocalWorker } from "./support/local-worker.js";
import { PORTS } from "./support/ports.js";

const run = promisify(execFile);
const ISSUER = `http://127.0.0.1:${PORTS.federationIssuer}`;
const ADMIN_TOKEN = "e2e-federation-admin-token-0123456789abcdef";
const SUB = "repo:acme/api:ref:refs/heads/main";

let worker: LocalWorker;
let issuerServer: Server;
let sign: (claims: Record<string, unknown>) => Promise<string>;
const dir = mkdtempSync(join(tmpdir(), "ets-fed-"));

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: "ci-1", alg: "RS256", use: "sig" };
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "ci-1", typ: "JWT" }).sign(privateKey);
  issuerServer = createServer((req, res) => {
    const body = req.url === "/.well-known/openid-configuration" ? { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` } : req.url === "/jwks" ? { keys: [jwk] } : undefined;
    res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => issuerServer.listen(PORTS.federationIssuer, "127.0.0.1", resolve));
  worker = await startLocalWorker({ port: PORTS.federationWorker, vars: { ADMIN_TOKEN } });
});
afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => issuerServer?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function ets(...args: string[]) {
  return run(process.execPath, ["src/cli/bin.js", ...args], { env: { ...process.env, ETS_URL: worker.url, ETS_ADMIN_TOKEN: ADMIN_TOKEN } });
}

/** What the CI job runs: curl the token endpoint with its OIDC token as client assertion. */
async function curlToken(clientId: string, assertion: string, path = "/oauth2/token", extra: string[] = []) {
  const { stdout } = await run("curl", [
    "-s", "-w", "\n%{http_code}", "-X", "POST", `${worker.url}${path}`,
    "--data-urlencode", "grant_type=client_credentials",
    "--data-urlencode", `client_id=${clientId}`,
    "--data-urlencode", "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "--data-urlencode", `client_assertion=${assertion}`,
    ...extra,
  ]);
  const [body, status] = [stdout.slice(0, stdout.lastIndexOf("\n")), stdout.slice(stdout.lastIndexOf("\n") + 1)];
  return { status: Number(status), body: JSON.parse(body) };
}

function ciToken(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return sign({ iss: ISSUER, sub: SUB, aud: worker.url, repository_id: "123456", repository: "acme/api", ref: "refs/heads/main", jti: crypto.randomUUID(), iat: now, nbf: now, exp: now + 300, ...overrides });
}

test("operator trusts a local issuer with ets, a CI job exchanges its OIDC token with curl", async () => {
  const added = await ets("trusted-issuers", "add", "--issuer", ISSUER, "--discovery", "--shared", "--immutable-claim", "repository_id", "--json");
  expect(JSON.parse(added.stdout)).toMatchObject({ issuer: ISSUER, discovery: true, shared: true, jti_policy: "single_use" });

  // A client with no key of its own: the workload's identity is its credential.
  const created = await fetch(`${worker.url}/admin/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ client_id: "ci-deployer", scope: "deploy" }),
  });
  expect(created.status).toBe(400); // private_key_jwt needs a key or a federated credential
  const withCredential = await fetch(`${worker.url}/admin/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ client_id: "ci-deployer", scope: "deploy", federated_credentials: [{ name: "main", issuer: ISSUER, subject: SUB, claims: { repository_id: "123456" } }] }),
  });
  expect(withCredential.status).toBe(201);
  await ets("clients", "add-federated-credential", "ci-deployer", "--name", "tags", "--issuer", ISSUER, "--subject-pattern", "repo:acme/api:ref:refs/tags/*", "--claim", "repository_id=123456");

  const token = await ciToken();
  writeFileSync(join(dir, "token.jwt"), token);
  const explained = await ets("federation", "explain", "--client-id", "ci-deployer", "--token-file", join(dir, "token.jwt"));
  expect(explained.stdout).toMatch(/^matched: main$/m);

  const first = await curlToken("ci-deployer", token);
  expect(first.status).toBe(200);
  expect(decodeJwt(first.body.access_token)).toMatchObject({ sub: "ci-deployer", client_id: "ci-deployer", scope: "deploy" });
  const replay = await curlToken("ci-deployer", token);
  expect(replay).toMatchObject({ status: 401, body: { error: "invalid_client", error_description: expect.stringMatching(/already been used/) } });

  const tag = await curlToken("ci-deployer", await ciToken({ sub: "repo:acme/api:ref:refs/tags/v1.2" }));
  expect(tag.status).toBe(200);
  const fork = await curlToken("ci-deployer", await ciToken({ repository_id: "999" }));
  expect(fork).toMatchObject({ status: 401, body: { error_description: expect.stringMatching(/no federated credential of this client matches/) } });

  // The same authentication at introspection.
  const introspected = await curlToken("ci-deployer", await ciToken(), "/oauth2/introspect", ["--data-urlencode", `token=${tag.body.access_token}`]);
  expect(introspected).toMatchObject({ status: 200, body: { active: true, client_id: "ci-deployer" } });
  expect(worker.output()).toMatch(/"audit":"token_issued".*"credential":"main"/);
});
