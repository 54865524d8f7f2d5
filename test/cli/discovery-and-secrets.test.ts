import { decodeJwt, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { callWorker, ISSUER, TOKEN_URL } from "../helpers.js";
import { cliHarness, fields } from "./harness.js";

/** A CLI whose requests to `origin` are answered by the Worker under test as if sent to ISSUER. */
function cliBehind(origin: string) {
  const requests: string[] = [];
  const cli = cliHarness({
    fetch: async (input, init) => {
      requests.push(`${init?.method ?? "GET"} ${input}`);
      return callWorker(String(input).replace(origin, ISSUER), init);
    },
  });
  return { cli, requests };
}

describe("ets: aud and token endpoint from discovery (RFC 8414), not from --url", () => {
  it("gets a token through a URL that is not the issuer (a workers.dev URL): aud = issuer, POST to the discovered token_endpoint", async () => {
    const { cli, requests } = cliBehind("https://ets.example.workers.dev");
    const { client_id: id } = fields((await cli.ok("clients", "create", "--name", "wd", "--out", "k.json", "--scope", "read")).stdout);
    cli.env.ETS_URL = "https://ets.example.workers.dev";
    requests.length = 0;
    const assertion = (await cli.ok("assertion", "--client-id", id!, "--key", "k.json")).stdout.trim();
    expect(decodeJwt(assertion).aud).toBe(ISSUER);
    const token = JSON.parse((await cli.ok("token", "--client-id", id!, "--key", "k.json")).stdout);
    expect(decodeJwt(token.access_token)).toMatchObject({ iss: ISSUER, client_id: id });
    expect(requests).toEqual([
      "GET https://ets.example.workers.dev/.well-known/oauth-authorization-server",
      "GET https://ets.example.workers.dev/.well-known/oauth-authorization-server",
      `POST ${TOKEN_URL}`,
    ]);
  });

  it("--aud still overrides, and then the assertion needs no discovery", async () => {
    const { cli, requests } = cliBehind("https://unused.example");
    const { client_id: id } = fields((await cli.ok("clients", "create", "--name", "aud", "--out", "k.json")).stdout);
    requests.length = 0;
    const assertion = (await cli.ok("assertion", "--client-id", id!, "--key", "k.json", "--aud", TOKEN_URL)).stdout.trim();
    expect(decodeJwt(assertion).aud).toBe(TOKEN_URL);
    expect(requests).toEqual([]);
  });

  it("names a discovery document without issuer or token_endpoint", async () => {
    const cli = cliHarness({ fetch: async () => Response.json({ issuer: "https://x.example" }) });
    cli.files.set("k.json", { text: "{}", mode: 0o600 });
    const { client_id: id } = fields((await cliHarness().ok("clients", "create", "--name", "d", "--auth", "client_secret_post")).stdout);
    cli.env.ETS_CLIENT_SECRET = "s";
    expect(await cli.run("token", "--client-id", id!, "--auth", "client_secret_post")).toMatchObject({
      code: 1,
      stderr: 'ets: GET /.well-known/oauth-authorization-server: the metadata has no valid "token_endpoint"\n',
    });
  });
});

describe("ets: credentials only over https, or http to a loopback host (SPEC §8)", () => {
  const answering = () => {
    const sent: string[] = [];
    const cli = cliHarness({
      fetch: async (input) => {
        sent.push(String(input));
        return String(input).endsWith("/oauth-authorization-server")
          ? Response.json({ issuer: "https://issuer.test", token_endpoint: "http://auth.example.com/oauth2/token" })
          : Response.json({ clients: [] });
      },
    });
    cli.env = { ETS_ADMIN_TOKEN: "t".repeat(40) };
    return { cli, sent };
  };

  for (const url of ["http://auth.example.com", "http://10.0.0.1:8787", "http://0.0.0.0:8787", "http://[::ffff:127.0.0.1]:8787", "http://127.0.0.1.nip.io", "http://localhost.example.com"]) {
    it(`never sends the admin token to ${url}`, async () => {
      const { cli, sent } = answering();
      const { code, stderr } = await cli.run("clients", "list", "--url", url);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^ets: refusing to send the admin token over plain http:\/\/ to .*: use https:\/\/ \(plain http:\/\/ is only for a loopback host: 127\.0\.0\.0\/8, ::1, localhost\)\n$/);
      expect(sent).toEqual([]);
    });
  }

  for (const url of ["http://127.0.0.1:8787", "http://127.3.4.5:1", "http://[::1]:8787", "http://localhost:8787", "https://auth.example.com"]) {
    it(`sends it to ${url}`, async () => {
      const { cli, sent } = answering();
      await cli.ok("clients", "list", "--url", url);
      expect(sent).toHaveLength(1);
    });
  }

  it("never sends a client secret to an http:// token endpoint on another host, even one that discovery names", async () => {
    const { cli, sent } = answering();
    cli.env.ETS_CLIENT_SECRET = "s".repeat(64);
    for (const auth of ["client_secret_basic", "client_secret_post"]) {
      const { code, stderr } = await cli.run("token", "--url", "https://auth.example.com", "--client-id", "c", "--auth", auth);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^ets: refusing to send the client secret over plain http:\/\/ to auth\.example\.com/);
    }
    expect(sent.filter((u) => u.includes("/oauth2/token"))).toEqual([]);
  });

  it("never sends a client assertion to an http:// token endpoint on another host (issue 18)", async () => {
    const { cli, sent } = answering();
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    cli.files.set("k.json", { text: JSON.stringify({ ...(await exportJWK(privateKey)), kid: "k", alg: "ES256" }), mode: 0o600 });
    cli.env.ETS_CLIENT_SECRET = "s".repeat(64);
    for (const args of [["--key", "k.json"], ["--auth", "client_secret_jwt"]]) {
      const { code, stderr } = await cli.run("token", "--url", "https://auth.example.com", "--client-id", "c", ...args);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^ets: refusing to send the client assertion over plain http:\/\/ to auth\.example\.com/);
    }
    expect(sent.filter((u) => u.includes("/oauth2/token"))).toEqual([]);
  });

  it("does not trust discovery metadata read over plain http:// from another host (issue 18)", async () => {
    const { cli, sent } = answering();
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    cli.files.set("k.json", { text: JSON.stringify({ ...(await exportJWK(privateKey)), kid: "k", alg: "ES256" }), mode: 0o600 });
    for (const command of ["assertion", "token"]) {
      const { code, stderr } = await cli.run(command, "--url", "http://auth.example.com", "--client-id", "c", "--key", "k.json");
      expect(code).toBe(1);
      expect(stderr).toMatch(/^ets: refusing to read the discovery metadata over plain http:\/\/ from auth\.example\.com: use https:\/\//);
    }
    expect(sent).toEqual([]);
  });

  it("asks every request not to follow redirects, and names a 3xx instead of following it (issue 18)", async () => {
    const inits: Array<RequestInit | undefined> = [];
    const cli = cliHarness({
      fetch: async (input, init) => {
        inits.push(init);
        return new Response(null, { status: 308, headers: { Location: "https://elsewhere.example/admin/clients" } });
      },
    });
    cli.env = { ETS_URL: "https://auth.example.com", ETS_ADMIN_TOKEN: "t".repeat(40) };
    const { code, stderr } = await cli.run("clients", "list");
    expect(code).toBe(1);
    expect(stderr).toBe("ets: GET /admin/clients?limit=100: the server answered 308 (a redirect to https://elsewhere.example/admin/clients); not followed: the admin token is never sent on to another URL. Use the URL the service answers on (--url / ETS_URL)\n");
    expect(inits.map((init) => init?.redirect)).toEqual(["manual"]);
  });
});

describe("ets: secrets from the environment or files in preference to argv", () => {
  it("reads the client secret from --secret-file and ETS_CLIENT_SECRET_FILE; --secret works with a warning", async () => {
    const cli = cliHarness();
    const { client_id: id, client_secret: secret } = fields((await cli.ok("clients", "create", "--name", "f", "--auth", "client_secret_basic")).stdout);
    cli.files.set("secret.txt", { text: `${secret}\n`, mode: 0o600 });
    expect((await cli.ok("token", "--client-id", id!, "--secret-file", "secret.txt")).stderr).toBe("");
    cli.env.ETS_CLIENT_SECRET_FILE = "secret.txt";
    expect((await cli.ok("token", "--client-id", id!)).stderr).toBe("");
    delete cli.env.ETS_CLIENT_SECRET_FILE;
    const argv = await cli.ok("token", "--client-id", id!, "--secret", secret!);
    expect(argv.stderr).toBe("ets: warning: --secret puts the secret in the process list and shell history; prefer ETS_CLIENT_SECRET=… or --secret-file FILE\n");
    expect((await cli.run("token", "--client-id", id!, "--secret", secret!, "--secret-file", "secret.txt")).code).toBe(2);
    expect(await cli.run("token", "--client-id", id!, "--secret-file", "missing.txt")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ets: cannot read missing\.txt \(--secret-file\)/) });
  });

  it("reads the admin token from --admin-token-file and ETS_ADMIN_TOKEN_FILE; --admin-token works with a warning", async () => {
    const cli = cliHarness();
    const token = cli.env.ETS_ADMIN_TOKEN!;
    cli.env = { ETS_URL: ISSUER };
    cli.files.set("admin.txt", { text: `${token}\n`, mode: 0o600 });
    expect((await cli.ok("clients", "list", "--admin-token-file", "admin.txt")).stderr).toBe("");
    cli.env.ETS_ADMIN_TOKEN_FILE = "admin.txt";
    expect((await cli.ok("clients", "list")).stderr).toBe("");
    cli.env = { ETS_URL: ISSUER };
    const argv = await cli.ok("clients", "list", "--admin-token", token);
    expect(argv.stderr).toMatch(/^ets: warning: --admin-token puts the secret in the process list and shell history; prefer ETS_ADMIN_TOKEN=… or --admin-token-file FILE\n/);
  });
});

describe("ets: the local admin token", () => {
  it("on a 401 from a loopback server, says exactly what to do", async () => {
    const cli = cliHarness({ fetch: async () => Response.json({ error: "invalid_token" }, { status: 401 }) });
    cli.env = {};
    const none = await cli.run("clients", "list");
    expect(none).toMatchObject({ code: 1, stderr: expect.stringContaining("ets: no admin token for the local server: there is no ADMIN_TOKEN in .dev.vars. Run `npm start`") });
    cli.files.set(".dev.vars", { text: "ADMIN_TOKEN=stale\n", mode: 0o600 });
    const stale = await cli.run("clients", "list");
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringContaining("ets: GET /admin/clients?limit=100: 401: the local server does not use ADMIN_TOKEN from .dev.vars; it was started before .dev.vars had it") });
    expect(stale.stderr).toContain("Restart it");
  });
});

describe("ets: issued secrets to a file", () => {
  it("--secret-out writes the secret to a new 0600 file instead of stdout, on create and on rotation", async () => {
    const cli = cliHarness();
    const created = await cli.ok("clients", "create", "--name", "so", "--auth", "client_secret_post", "--secret-out", ".secrets/so.secret");
    expect(created.stdout).not.toContain("client_secret:");
    expect(fields(created.stdout).client_secret_file).toBe(".secrets/so.secret");
    const file = cli.files.get(".secrets/so.secret")!;
    expect(file.mode).toBe(0o600);
    const id = fields(created.stdout).client_id!;
    await cli.ok("token", "--client-id", id, "--auth", "client_secret_post", "--secret-file", ".secrets/so.secret");
    // Never over an existing file: the rotation is done, so the message says how to get a secret again.
    const refused = await cli.run("clients", "rotate-secret", id, "--secret-out", ".secrets/so.secret");
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining("cannot be written to .secrets/so.secret") });
    const rotated = await cli.ok("clients", "rotate-secret", id, "--secret-out", ".secrets/so.next");
    expect(rotated.stdout).toBe("client_secret_file: .secrets/so.next\n");
    await cli.ok("token", "--client-id", id, "--auth", "client_secret_post", "--secret-file", ".secrets/so.next");
  });
});
