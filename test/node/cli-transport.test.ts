/**
 * The CLI never leaks a credential on the way (SPEC §8, issue 18 item 3), checked with the real
 * `ets` binary and Node's real fetch: a plain-http stand-in server on a loopback address records
 * what it receives and answers every credential-bearing request with a 307 to a second server
 * (the redirect target), which records everything that reaches it. Node's fetch follows a 307 by
 * default and sends the body and headers again; the CLI must not.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A server on 127.0.0.1 (an ephemeral port) that records each request and answers with `answer`. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function recordingServer(answer: (req: IncomingMessage, base: string) => Answer) {
  const received: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      const { status, headers = {}, body: out = "" } = answer(req, base());
      res.writeHead(status, headers).end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, base: base(), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Recorder = Awaited<ReturnType<typeof recordingServer>>;
let target: Recorder;
let standIn: Recorder;
/** What the stand-in redirects: every path in this set answers 307 to the same path on the target. */
const redirected = new Set<string>();
let keyFile: string;

const ADMIN_TOKEN = "Zq8vN2xK5pR7tL1mW4cJ9hB3sF6dG0yA";
const CLIENT_SECRET = "s3cr3t-of-the-client-that-must-not-leak";

function ets(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETS_"))), ETS_URL: standIn.base, ETS_ADMIN_TOKEN: ADMIN_TOKEN, ETS_CLIENT_SECRET: CLIENT_SECRET };
  return new Promise((resolve) => {
    execFile(process.execPath, ["src/cli/bin.js", ...args], { env, encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  target = await recordingServer(() => ({ status: 200, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ clients: [], access_token: "leaked", token_type: "Bearer" }) }));
  standIn = await recordingServer((req, base): Answer => {
    if (redirected.has(req.url!)) return { status: 307, headers: { Location: `${target.base}${req.url}` } };
    if (req.url === "/.well-known/oauth-authorization-server") {
      return { status: 200, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ issuer: base, token_endpoint: `${base}/oauth2/token` }) };
    }
    return { status: 404, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ error: "not_found", error_description: "no such endpoint" }) };
  });
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  keyFile = join(mkdtempSync(join(tmpdir(), "ets-transport-")), "client.private.jwk.json");
  writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid: "k1", alg: "ES256" }), { mode: 0o600 });
});
afterAll(async () => {
  await standIn.close();
  await target.close();
});
beforeEach(() => {
  redirected.clear();
  target.received.length = 0;
  standIn.received.length = 0;
});

describe("ets never follows a redirect with a credential (issue 18)", () => {
  it("the admin token: a 307 on an admin call is reported, not followed", async () => {
    redirected.add("/admin/clients?limit=100");
    const result = await ets("clients", "list");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ets: GET \/admin\/clients\?limit=100: the server answered 307 \(a redirect to http:\/\/127\.0\.0\.1:\d+\/admin\/clients\?limit=100\); not followed: the admin token is never sent on to another URL\. Use the URL the service answers on \(--url \/ ETS_URL\)\n$/);
    expect(standIn.received.map((r) => r.authorization)).toEqual([`Bearer ${ADMIN_TOKEN}`]);
    expect(target.received).toEqual([]);
  });

  for (const [what, args, secret] of [
    ["a client_secret_post secret", ["--auth", "client_secret_post"], CLIENT_SECRET],
    ["client_secret_basic credentials", ["--auth", "client_secret_basic"], "Basic "],
    ["a client assertion", ["--key", "KEYFILE"], "client_assertion="],
  ] as const) {
    it(`${what}: a 307 from the token endpoint is reported, not followed`, async () => {
      redirected.add("/oauth2/token");
      const result = await ets("token", "--client-id", "c1", ...args.map((a) => (a === "KEYFILE" ? keyFile : a)));
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/^ets: token endpoint: the server answered 307 \(a redirect to http:\/\/127\.0\.0\.1:\d+\/oauth2\/token\); not followed: /);
      const post = standIn.received.find((r) => r.url === "/oauth2/token")!;
      expect(`${post.authorization ?? ""} ${post.body}`).toContain(secret);
      expect(target.received).toEqual([]);
      expect(result.stdout).not.toContain("leaked");
    });
  }

  it("discovery: a 307 is not followed, and nothing is signed or sent after it", async () => {
    redirected.add("/.well-known/oauth-authorization-server");
    const result = await ets("token", "--client-id", "c1", "--key", keyFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ets: GET \/\.well-known\/oauth-authorization-server: the server answered 307 /);
    expect(standIn.received.map((r) => r.url)).toEqual(["/.well-known/oauth-authorization-server"]);
    expect(target.received).toEqual([]);
  });
});
