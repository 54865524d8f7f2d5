import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { loadSigningKeys } from "../../../src/stores/signing-keys.js";
import { callWorker, ISSUER, JWT_BEARER, keyAssertion, postForm, registerKeyClient, TOKEN_URL, type KeyClient } from "../../support/helpers.js";
import { cliHarness } from "../../support/cli-harness.js";

/** The Worker with SIGNING_KEYS set to `value`, as after `wrangler secret put SIGNING_KEYS`. */
function deployment(value: string) {
  const overrides = { SIGNING_KEYS: value };
  return {
    jwks: async () => (await (await callWorker("/.well-known/jwks.json", {}, overrides)).json()) as JSONWebKeySet,
    async token(client: KeyClient): Promise<string> {
      const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
      const res = await postForm(form, {}, TOKEN_URL, overrides);
      expect(res.status).toBe(200);
      return (await res.json<{ access_token: string }>()).access_token;
    },
  };
}

const verifies = (token: string, jwks: JSONWebKeySet) =>
  jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, typ: "at+jwt" }).then(
    () => true,
    () => false,
  );

const kids = (value: string) => (JSON.parse(value).keys as Array<{ kid: string }>).map((k) => k.kid);

describe("ets keys", () => {
  it("generate prints a SIGNING_KEYS value the server accepts", async () => {
    const cli = cliHarness();
    for (const alg of ["ES256", "EdDSA", "PS256"]) {
      const { stdout, stderr } = await cli.ok("keys", "generate", "--alg", alg);
      expect(stdout.trim().split("\n")).toHaveLength(1);
      const keys = await loadSigningKeys(stdout.trim());
      expect(keys.active.alg).toBe(alg);
      expect(keys.publicJwks.keys[0]!.kid).toBe(keys.active.kid);
      expect(stderr).toContain("npx wrangler secret put SIGNING_KEYS");
    }
  });

  it("rotates the server signing key without breaking tokens already issued", async () => {
    const cli = cliHarness();
    const client = await registerKeyClient("ES256");

    // 1. Today: one key, k1.
    const v1 = (await cli.ok("keys", "generate")).stdout.trim();
    const [k1] = kids(v1);
    const before = deployment(v1);
    const oldToken = await before.token(client);
    expect(decodeProtectedHeader(oldToken).kid).toBe(k1);

    // 2. keys rotate: k2 is published after k1; k1 still signs.
    cli.stdin = v1;
    const rotated = await cli.ok("keys", "rotate");
    const v2 = rotated.stdout.trim();
    const [, k2] = kids(v2);
    expect(kids(v2)).toEqual([k1, k2]);
    expect(rotated.stderr).toContain(`keys promote --kid ${k2}`);
    const published = deployment(v2);
    const jwks2 = await published.jwks();
    expect(jwks2.keys.map((k) => k.kid)).toEqual([k1, k2]);
    expect(jwks2.keys.every((k) => (k as { d?: string }).d === undefined)).toBe(true);
    expect(decodeProtectedHeader(await published.token(client)).kid).toBe(k1);
    expect(await verifies(oldToken, jwks2)).toBe(true);

    // 3. keys promote: k2 signs; k1 stays published, so old tokens keep verifying.
    cli.files.set("v2.json", { text: v2, mode: 0o600 });
    const v3 = (await cli.ok("keys", "promote", "--kid", k2!, "--current", "v2.json")).stdout.trim();
    expect(kids(v3)).toEqual([k2, k1]);
    const promoted = deployment(v3);
    const newToken = await promoted.token(client);
    expect(decodeProtectedHeader(newToken).kid).toBe(k2);
    const jwks3 = await promoted.jwks();
    expect(await verifies(oldToken, jwks3)).toBe(true);
    expect(await verifies(newToken, jwks3)).toBe(true);
    // A resource server still holding the step-2 JWKS already knows k2.
    expect(await verifies(newToken, jwks2)).toBe(true);

    // 4. keys retire k1, once its tokens have expired: only k2 is left.
    cli.stdin = v3;
    const v4 = (await cli.ok("keys", "retire", "--kid", k1!)).stdout.trim();
    expect(kids(v4)).toEqual([k2]);
    const jwks4 = await deployment(v4).jwks();
    expect(await verifies(oldToken, jwks4)).toBe(false);
    expect(await verifies(newToken, jwks4)).toBe(true);
  });

  it("promotes the last key by default and shows the roles", async () => {
    const cli = cliHarness();
    cli.stdin = (await cli.ok("keys", "generate")).stdout;
    const v2 = (await cli.ok("keys", "rotate", "--alg", "EdDSA")).stdout;
    cli.stdin = v2;
    const v3 = (await cli.ok("keys", "promote")).stdout;
    expect(kids(v3)).toEqual([kids(v2)[1], kids(v2)[0]]);
    cli.stdin = v3;
    const lines = (await cli.ok("keys", "show")).stdout.trim().split("\n");
    expect(lines[0]).toMatch(/ EdDSA {2}active/);
    expect(lines[1]).toMatch(/ ES256 {2}published/);
    expect(lines.join("\n")).not.toMatch(/"d"/);
  });

  it("refuses to retire the active key, unknown kids, and values that are not SIGNING_KEYS", async () => {
    const cli = cliHarness();
    const v1 = (await cli.ok("keys", "generate")).stdout;
    cli.stdin = v1;
    expect(await cli.run("keys", "retire", "--kid", kids(v1)[0]!)).toMatchObject({ code: 1, stderr: expect.stringMatching(/is the active \(signing\) key/) });
    expect(await cli.run("keys", "promote", "--kid", kids(v1)[0]!)).toMatchObject({ code: 1, stderr: expect.stringMatching(/already the active/) });
    expect(await cli.run("keys", "retire", "--kid", "nope")).toMatchObject({ code: 1, stderr: expect.stringMatching(/no key with kid "nope"/) });
    expect((await cli.run("keys", "retire")).code).toBe(2);
    const publicOnly = JSON.stringify({ keys: JSON.parse(v1).keys.map(({ d: _d, ...pub }: Record<string, unknown>) => pub) });
    for (const [value, message] of [
      ["not json", /is not JSON/],
      ['{"keys":[]}', /at least one key/],
      [publicOnly, /is a public key/],
      [JSON.stringify({ keys: [...JSON.parse(v1).keys, ...JSON.parse(v1).keys] }), /appears twice/],
    ] as const) {
      cli.stdin = value;
      expect(await cli.run("keys", "rotate")).toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
    }
    cli.stdin = "";
    expect((await cli.run("keys", "show")).code).toBe(2);
    expect(await cli.run("keys", "show", "--current", "missing.json")).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read missing\.json/) });
  });
});

describe("ets keys --out and --local", () => {
  it("--out writes the value to a 0600 file, never over an existing one", async () => {
    const cli = cliHarness();
    const generated = await cli.ok("keys", "generate", "--out", ".secrets/signing-keys.json");
    expect(generated.stdout).toBe("");
    const file = cli.files.get(".secrets/signing-keys.json")!;
    expect(file.mode).toBe(0o600);
    expect(JSON.parse(file.text).keys).toHaveLength(1);
    expect(generated.stderr).toContain("npx wrangler secret put SIGNING_KEYS --env production < .secrets/signing-keys.json");
    expect(await cli.run("keys", "rotate", "--current", ".secrets/signing-keys.json", "--out", ".secrets/signing-keys.json")).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ets: cannot write \.secrets\/signing-keys\.json/) });
  });

  it("--local reads and writes LOCAL_DEV_SIGNING_KEYS in .dev.vars (never SIGNING_KEYS, which ends local dev), keeping its other lines", async () => {
    const cli = cliHarness();
    expect(await cli.run("keys", "rotate", "--local")).toMatchObject({ code: 1, stderr: expect.stringContaining(".dev.vars has no LOCAL_DEV_SIGNING_KEYS") });
    cli.files.set(".dev.vars", { text: "ADMIN_TOKEN=local\n", mode: 0o600 });
    const generated = await cli.ok("keys", "generate", "--local");
    expect(generated.stdout).toBe("");
    expect(generated.stderr).toContain("restart the local server");
    const first = JSON.parse(/^LOCAL_DEV_SIGNING_KEYS='(.*)'$/m.exec(cli.files.get(".dev.vars")!.text)![1]!).keys[0].kid;
    await cli.ok("keys", "rotate", "--local");
    const text = cli.files.get(".dev.vars")!.text;
    expect(text).toMatch(/^ADMIN_TOKEN=local$/m);
    expect(text.match(/SIGNING_KEYS=/g)).toHaveLength(1);
    expect(text).not.toMatch(/^SIGNING_KEYS=/m);
    const shown = (await cli.ok("keys", "show", "--local")).stdout.trim().split("\n");
    expect(shown).toHaveLength(2);
    expect(shown[0]).toMatch(new RegExp(`^${first}  ES256  active`));
    await cli.ok("keys", "promote", "--local");
    expect((await cli.ok("keys", "show", "--local")).stdout).toMatch(new RegExp(`${first}  ES256  published`));
    await cli.ok("keys", "retire", "--kid", first, "--local");
    expect((await cli.ok("keys", "show", "--local")).stdout.trim().split("\n")).toHaveLength(1);
    expect((await cli.run("keys", "rotate", "--local", "--current", "x.json")).code).toBe(2);
  });
});

describe("ets keys status and ets keys rotate: the server's key ring (SIGNING_KEY_ROTATION = auto)", () => {
  const AUTO = { SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined, SIGNING_KEY_PUBLISH_AHEAD: "2" };
  const ring = () => cliHarness({ fetch: (input, init) => callWorker(input, init, AUTO) });

  it("keys status lists each key with its state and instants; --json prints the API's answer", async () => {
    const status = await ring().ok("keys", "status");
    const lines = status.stdout.trim().split("\n");
    expect(lines[0]).toBe("rotation: auto (lifetime 2592000 s, publish ahead 2 s, retain 172800 s); JWKS max-age 1 s");
    expect(lines[1]).toMatch(/^\S+  ES256  signing  ring  published \d{4}-\d\d-\d\dT\S+Z  signs \S+ – \S+  unpublished \S+$/);
    expect(lines[2]).toMatch(/  ES256  next  ring  /);
    const json = JSON.parse((await ring().ok("keys", "status", "--json")).stdout);
    expect(json).toMatchObject({ rotation: "auto", keys: [expect.objectContaining({ state: "signing" }), expect.objectContaining({ state: "next" })] });
    // With SIGNING_KEYS alone the server says so.
    expect((await cliHarness().ok("keys", "status")).stdout).toMatch(/^rotation: manual \(SIGNING_KEYS\)/);
  });

  it("keys rotate with no SIGNING_KEYS value rotates the ring; --remove-previous removes the previous key at the switch", async () => {
    const before = JSON.parse((await ring().ok("keys", "status", "--json")).stdout).keys[0].kid;
    const rotated = await ring().ok("keys", "rotate");
    expect(rotated.stderr).toMatch(new RegExp(`signs from \\S+Z \\(every instance switches then\\)\\.\\n${before} stops signing then and stays published until `));
    // Once that rotation has switched, two ring keys have signed: --remove-previous names both.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const earlier = JSON.parse((await ring().ok("keys", "status", "--json")).stdout).keys.filter((k: { source: string; state: string }) => k.source === "ring" && k.state !== "next");
    expect(earlier.length).toBe(2);
    const removed = await ring().ok("keys", "rotate", "--remove-previous");
    expect(removed.stderr).toMatch(/is removed then: tokens it signed stop verifying/);
    for (const { kid } of earlier) expect(removed.stderr).toContain(`${kid} is removed then`);
    // Refused where it makes no sense: with SIGNING_KEYS alone (409), --remove-previous with a value, --out without one.
    expect(await cliHarness().run("keys", "rotate")).toMatchObject({ code: 1, stderr: expect.stringMatching(/409 conflict: the signing keys come from SIGNING_KEYS/) });
    const cli = ring();
    cli.stdin = (await cli.ok("keys", "generate")).stdout;
    expect((await cli.run("keys", "rotate", "--remove-previous")).code).toBe(0);
    expect((await cli.run("keys", "rotate", "--current", "x.json", "--remove-previous")).code).toBe(2);
    cli.stdin = "";
    expect((await cli.run("keys", "rotate", "--out", "next.json")).code).toBe(2);
    // stdin that cannot be read is an error, not "no value": nothing rotates on the server.
    const kidsBefore = JSON.parse((await ring().ok("keys", "status", "--json")).stdout).keys.map((k: { kid: string }) => k.kid);
    cli.stdin = new Error("EIO: i/o error, read");
    expect(await cli.run("keys", "rotate")).toMatchObject({ code: 1, stderr: expect.stringContaining("EIO") });
    expect(JSON.parse((await ring().ok("keys", "status", "--json")).stdout).keys.map((k: { kid: string }) => k.kid)).toEqual(kidsBefore);
  });
});
