/**
 * One local dev, however it was started (README): `npm start` and plain `npx wrangler dev` share
 * the admin token through .dev.vars, the CLI finds it there for a loopback URL, says what to do
 * when it cannot, and fetches the demo client's private key from the local server when the file
 * is missing. Run in a fresh clone, as a newcomer would.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PORTS } from "./support/ports.js";
import { scratchRepo, type DevServer, type ScratchRepo } from "./support/scratch-repo.js";

const PORT = PORTS.localDev;
let repo: ScratchRepo;
let server: DevServer | undefined;

function cli(args: string[], env: Record<string, string> = {}) {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETS_")));
  const result = spawnSync(process.execPath, ["src/cli/bin.js", ...args], {
    cwd: repo.dir,
    encoding: "utf8",
    env: { ...cleanEnv, ETS_URL: `http://127.0.0.1:${PORT}`, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  repo = scratchRepo();
});
afterEach(async () => {
  // Stopped even when a test fails, so the next one can have the port.
  await server?.stop();
  server = undefined;
});
afterAll(() => repo?.remove());

/** The Worker's output once it matches `pattern` (its log lines may follow the response). */
async function waitForOutput(pattern: RegExp): Promise<RegExpExecArray | null> {
  for (let i = 0; i < 50; i++) {
    const match = pattern.exec(server!.output());
    if (match) return match;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

describe("local dev: npm start and plain wrangler dev", () => {
  it("plain wrangler dev on a fresh clone: the CLI says how to get the admin token, and with it fetches the demo key", async () => {
    server = await repo.startDevServer(PORT, { plain: true });
    const missing = cli(["clients", "list"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no admin token for the local server: there is no ADMIN_TOKEN in .dev.vars. Run `npm start`");

    // The Worker logs its generated token on the first request that reads a client: the
    // walk-through's first `curl /jwts`, before any admin call.
    expect((await fetch(`${server.url}/jwts`)).status).toBe(200);
    const logged = (await waitForOutput(/the generated local admin token is (\S+)/))?.[1];
    expect(logged, server.output()).toBeDefined();

    const keyFile = ".wrangler/demo-key.private.jwk.json";
    const token = cli(["token", "--client-id", "demo-private-key-jwt", "--key", keyFile], { ETS_ADMIN_TOKEN: logged! });
    expect(token.code, token.stderr).toBe(0);
    expect(JSON.parse(token.stdout)).toMatchObject({ token_type: "Bearer", scope: "read write" });
    expect(token.stderr).toContain(`Fetched the local demo client's private key from http://127.0.0.1:${PORT}/admin/local-dev into ${keyFile}`);
    expect(statSync(join(repo.dir, keyFile)).mode & 0o777).toBe(0o600);
    await server.stop();
  });

  it("npm start writes ADMIN_TOKEN to .dev.vars; plain wrangler dev then uses it, and so does the CLI", async () => {
    server = await repo.startDevServer(PORT);
    const devVars = readFileSync(join(repo.dir, ".dev.vars"), "utf8");
    const adminToken = /^ADMIN_TOKEN=(\S+)$/m.exec(devVars)?.[1];
    expect(adminToken?.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(repo.dir, ".dev.vars")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(repo.dir, ".wrangler/demo-private-key-jwt.private.jwk.json"))).toBe(true);
    expect(cli(["clients", "list"]).code).toBe(0);
    await server.stop();

    server = await repo.startDevServer(PORT, { plain: true });
    const listed = cli(["clients", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("demo-private-key-jwt");
    expect(cli(["token", "--client-id", "demo-private-key-jwt", "--key", ".wrangler/demo-private-key-jwt.private.jwk.json"]).code).toBe(0);
    await server.stop();
    // The token never sits where `git add .` would take it.
    expect(repo.untracked().filter((f) => !f.startsWith(".wrangler/"))).toEqual([]);
  });

  it("npm start --port N, as a reader types it (without `--`), starts on that port", async () => {
    server = await repo.startDevServer(PORT, { npmArgs: ["--port", String(PORT)] });
    expect(server.output()).toContain(`running locally on http://127.0.0.1:${PORT}`);
    await server.stop();
  });

  it("a wrong ETS_ADMIN_TOKEN for the local server: the CLI's 401 says to unset it", async () => {
    server = await repo.startDevServer(PORT, { plain: true });
    expect(cli(["clients", "list"]).code).toBe(0);
    const wrong = cli(["clients", "list"], { ETS_ADMIN_TOKEN: "x".repeat(40) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the local server refused the admin token you gave (ETS_ADMIN_TOKEN / --admin-token); unset it to use ADMIN_TOKEN from .dev.vars");
    await server.stop();
  });
});
