import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { admin, ISSUER, uniqueId } from "../helpers.js";
import { cliHarness, fields } from "./harness.js";

describe("ets clients create", () => {
  it("generates the key pair locally, registers only the public key, writes the private key with mode 0600", async () => {
    const cli = cliHarness();
    const { stdout, stderr } = await cli.ok("clients", "create", "--name", "Billing batch", "--scope", "read write");
    const { client_id: clientId, private_key_file: keyFile } = fields(stdout);
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    // Under .secrets/, which .gitignore covers.
    expect(keyFile).toBe(`.secrets/${clientId}.private.jwk.json`);
    expect(stderr).toMatch(/mode 0600/);

    const file = cli.files.get(keyFile!)!;
    expect(file.mode).toBe(0o600);
    const privateJwk = JSON.parse(file.text);
    expect(privateJwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    expect(typeof privateJwk.d).toBe("string");

    const record = await (await admin("GET", `/admin/clients/${clientId}`)).json<any>();
    expect(record).toMatchObject({ client_name: "Billing batch", token_endpoint_auth_method: "private_key_jwt", token_endpoint_auth_signing_alg: "ES256", scope: "read write" });
    expect(record.jwks.keys).toHaveLength(1);
    expect(record.jwks.keys[0].kid).toBe(privateJwk.kid);
    expect(record.jwks.keys[0].d).toBeUndefined();
    // The sent registration carried no private member at all.
    const sent = await cli.requests.find((r) => r.method === "POST")!.clone().text();
    expect(sent).not.toContain('"d"');

    const token = JSON.parse((await cli.ok("token", "--client-id", clientId!, "--key", keyFile!)).stdout);
    expect(decodeJwt(token.access_token)).toMatchObject({ client_id: clientId, scope: "read write" });
  });

  // Every asymmetric algorithm of core/algorithms.js, the fully-specified Ed25519 (RFC 9864) included.
  for (const alg of ["PS256", "RS256", "EdDSA", "Ed25519", "ES384"]) {
    it(`creates a working ${alg} client`, async () => {
      const cli = cliHarness();
      const id = uniqueId(alg.toLowerCase());
      await cli.ok("clients", "create", "--name", alg, "--alg", alg, "--client-id", id, "--out", "k.json", "--scope", "read");
      expect(JSON.parse(cli.files.get("k.json")!.text).alg).toBe(alg);
      const token = JSON.parse((await cli.ok("token", "--client-id", id, "--key", "k.json")).stdout);
      expect(token).toMatchObject({ token_type: "Bearer", scope: "read" });
    });
  }

  for (const auth of ["client_secret_basic", "client_secret_post", "client_secret_jwt"]) {
    it(`creates a ${auth} client, prints its secret once, and gets a token with it`, async () => {
      const cli = cliHarness();
      const { stdout, stderr } = await cli.ok("clients", "create", "--name", auth, "--auth", auth, "--scope", "read");
      const { client_id: clientId, client_secret: secret } = fields(stdout);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(stderr).toMatch(/shown only now/);
      expect(cli.files.size).toBe(0);
      const token = JSON.parse((await cli.ok("token", "--client-id", clientId!, "--secret", secret!, "--auth", auth)).stdout);
      expect(token.scope).toBe("read");
      // The secret is never shown again.
      expect(await (await admin("GET", `/admin/clients/${clientId}`)).text()).not.toContain(secret);
    });
  }

  it("registers a jwks_uri client without generating a key", async () => {
    const cli = cliHarness();
    const id = uniqueId("remote");
    await cli.ok("clients", "create", "--name", "remote", "--client-id", id, "--jwks-uri", "https://keys.example/jwks.json");
    expect(cli.files.size).toBe(0);
    const record = await (await admin("GET", `/admin/clients/${id}`)).json<any>();
    expect(record).toMatchObject({ jwks_uri: "https://keys.example/jwks.json" });
    // The client's own keys decide the algorithm unless --alg pins it.
    expect(record.token_endpoint_auth_signing_alg).toBeUndefined();
  });

  it("registers a public key the client generated itself", async () => {
    const donor = cliHarness();
    await donor.ok("clients", "create", "--name", "donor", "--alg", "PS256", "--out", "theirs.json");
    const cli = cliHarness();
    cli.files.set("theirs.pub.json", { text: JSON.stringify(JSON.parse(donor.files.get("theirs.json")!.text)), mode: 0o644 });
    const id = uniqueId("own");
    const { stdout } = await cli.ok("clients", "create", "--name", "own", "--client-id", id, "--public-key", "theirs.pub.json");
    expect(fields(stdout)).toEqual({ client_id: id });
    expect(cli.files.size).toBe(1);
    const record = await (await admin("GET", `/admin/clients/${id}`)).json<any>();
    expect(record.token_endpoint_auth_signing_alg).toBe("PS256");
    expect(record.jwks.keys[0].d).toBeUndefined();
    cli.files.set("theirs.json", donor.files.get("theirs.json")!);
    await cli.ok("token", "--client-id", id, "--key", "theirs.json");
    expect((await cli.run("clients", "create", "--name", "x", "--public-key", "a", "--out", "b")).code).toBe(2);
  });

  it("reports an API error as one line, exit 1, and leaves no orphan key file", async () => {
    const cli = cliHarness();
    const id = uniqueId("dup");
    await cli.ok("clients", "create", "--name", "first", "--client-id", id, "--out", "first.json");
    const { code, stderr, stdout } = await cli.run("clients", "create", "--name", "second", "--client-id", id, "--out", "second.json");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`ets: POST /admin/clients: 409 conflict: a client with client_id '${id}' already exists\n`);
    expect(cli.files.has("second.json")).toBe(false);
    expect(cli.files.has("first.json")).toBe(true);
  });

  it("never overwrites an existing key file", async () => {
    const cli = cliHarness();
    cli.files.set("taken.json", { text: "precious", mode: 0o600 });
    const { code, stderr } = await cli.run("clients", "create", "--name", "x", "--out", "taken.json");
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot write the private key to taken\.json: EEXIST/);
    expect(cli.files.get("taken.json")!.text).toBe("precious");
  });

  it("refuses bad usage with exit 2", async () => {
    const cli = cliHarness();
    for (const argv of [["clients", "create"], ["clients", "create", "--name", "x", "--auth", "magic"], ["clients", "create", "--name", "x", "--alg", "HS256"], ["clients", "create", "--name", "x", "--bogus", "1"]]) {
      const { code, stderr } = await cli.run(...argv);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^ets: .*\(see ets --help\)\n$/);
    }
  });
});

describe("ets clients list / show / disable / enable / delete", () => {
  it("lists every client across pages, as a table or JSON", async () => {
    const cli = cliHarness();
    const prefix = uniqueId("listed");
    for (let i = 0; i < 3; i++) await cli.ok("clients", "create", "--name", `L${i}`, "--auth", "client_secret_basic", "--client-id", `${prefix}-${i}`);
    const table = (await cli.ok("clients", "list", "--limit", "2")).stdout.split("\n");
    expect(table[0]).toMatch(/^CLIENT_ID\s+AUTH\s+STATUS\s+SCOPE\s+NAME$/);
    expect(table.filter((l) => l.startsWith(prefix))).toHaveLength(3);
    const json = JSON.parse((await cli.ok("clients", "list", "--json")).stdout);
    expect(json.filter((c: any) => c.client_id.startsWith(prefix)).map((c: any) => c.client_name).sort()).toEqual(["L0", "L1", "L2"]);
    const page = await cli.ok("clients", "list", "--limit", "1", "--cursor", "", "--json");
    expect(JSON.parse(page.stdout).clients).toHaveLength(1);
  });

  it("replay-guard sets a client's shard count and location hint; the server validates them", async () => {
    const cli = cliHarness();
    const id = uniqueId("topology");
    await cli.ok("clients", "create", "--name", "T", "--auth", "client_secret_basic", "--client-id", id);
    expect((await cli.ok("clients", "replay-guard", id, "--shards", "8", "--location", "weur")).stdout).toBe(`${id} replay guard: 8 shards, location weur\n`);
    expect(JSON.parse((await cli.ok("clients", "show", id)).stdout)).toMatchObject({ replay_guard_shards: 8, replay_guard_location: "weur" });
    expect((await cli.ok("clients", "replay-guard", id, "--location", "none")).stdout).toBe(`${id} replay guard: 8 shards\n`);
    const refused = await cli.run("clients", "replay-guard", id, "--location", "mars");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("replay_guard_location");
    expect((await cli.run("clients", "replay-guard", id)).code).toBe(2);
  });

  it("shows, disables, enables and deletes a client", async () => {
    const cli = cliHarness();
    const { stdout } = await cli.ok("clients", "create", "--name", "lifecycle", "--auth", "client_secret_post", "--scope", "read");
    const { client_id: id, client_secret: secret } = fields(stdout);
    expect(JSON.parse((await cli.ok("clients", "show", id!)).stdout)).toMatchObject({ client_id: id, disabled: false });

    expect((await cli.ok("clients", "disable", id!)).stdout).toBe(`${id} disabled\n`);
    cli.env.ETS_CLIENT_SECRET = secret;
    const refused = await cli.run("token", "--client-id", id!, "--auth", "client_secret_post");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("ets: token endpoint: 401 invalid_client: client authentication failed: unknown or disabled client\n");

    expect((await cli.ok("clients", "enable", "--client-id", id!)).stdout).toBe(`${id} enabled\n`);
    await cli.ok("token", "--client-id", id!, "--auth", "client_secret_post");

    expect((await cli.ok("clients", "delete", id!)).stdout).toBe(`${id} deleted\n`);
    const gone = await cli.run("clients", "show", id!);
    expect(gone).toMatchObject({ code: 1, stderr: `ets: GET /admin/clients/${id}: 404 not_found: no client with that client_id\n` });
  });
});

describe("ets clients rotate-secret", () => {
  it("prints the new secret once; the old one works until the overlap ends (--previous-valid-for, 0 = at once)", async () => {
    const cli = cliHarness();
    const { client_id: id, client_secret: oldSecret } = fields((await cli.ok("clients", "create", "--name", "r", "--auth", "client_secret_basic")).stdout);
    const rotated = await cli.ok("clients", "rotate-secret", id!, "--previous-valid-for", "600");
    const { client_secret: newSecret } = fields(rotated.stdout);
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.stderr).toMatch(/old secret keeps working until \d{4}-\d\d-\d\dT/);
    await cli.ok("token", "--client-id", id!, "--secret", oldSecret!);
    await cli.ok("token", "--client-id", id!, "--secret", newSecret!);

    const again = await cli.ok("clients", "rotate-secret", id!, "--previous-valid-for", "0");
    const { client_secret: newest } = fields(again.stdout);
    expect(again.stderr).toMatch(/old secret no longer works/);
    expect((await cli.run("token", "--client-id", id!, "--secret", newSecret!)).code).toBe(1);
    await cli.ok("token", "--client-id", id!, "--secret", newest!);
    expect(await cli.run("clients", "rotate-secret", id!, "--previous-valid-for", "-1")).toMatchObject({ code: 2 });
    const forKeyClient = await cli.run("clients", "rotate-secret", fields((await cli.ok("clients", "create", "--name", "k", "--out", "k.json")).stdout).client_id!);
    expect(forKeyClient.code).toBe(1);
    expect(forKeyClient.stderr).toMatch(/400 invalid_client_metadata: token_endpoint_auth_method: private_key_jwt clients have no secret/);
  });
});

describe("ets clients add-key / remove-key (client key rotation)", () => {
  it("keeps the old key working while it is registered, and stops it after remove-key", async () => {
    const cli = cliHarness();
    const { client_id: id } = fields((await cli.ok("clients", "create", "--name", "rotating", "--out", "old.json")).stdout);
    const oldKid = JSON.parse(cli.files.get("old.json")!.text).kid;

    const added = fields((await cli.ok("clients", "add-key", id!, "--out", "new.json")).stdout);
    expect(cli.files.get("new.json")!.mode).toBe(0o600);
    expect(added.kid).toBe(JSON.parse(cli.files.get("new.json")!.text).kid);
    expect(JSON.parse(cli.files.get("new.json")!.text).alg).toBe("ES256"); // the client's registered alg

    // Both keys side by side.
    await cli.ok("token", "--client-id", id!, "--key", "old.json");
    await cli.ok("token", "--client-id", id!, "--key", "new.json");

    expect((await cli.ok("clients", "remove-key", id!, "--kid", oldKid)).stdout).toBe(`removed ${oldKid}; remaining: ${added.kid}\n`);
    const old = await cli.run("token", "--client-id", id!, "--key", "old.json");
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/401 invalid_client: no registered key of the client matches/);
    await cli.ok("token", "--client-id", id!, "--key", "new.json");

    const last = await cli.run("clients", "remove-key", id!, "--kid", added.kid!);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/409 conflict: this is the client's last key/);
  });

  it("adds a public key the client generated itself (from a JWK file, private members stripped)", async () => {
    const cli = cliHarness();
    const { client_id: id } = fields((await cli.ok("clients", "create", "--name", "own-key", "--out", "a.json")).stdout);
    // The client made its own key pair; even if the operator is handed the private file, only the public half is sent.
    const own = cliHarness();
    await own.ok("clients", "create", "--name", "donor", "--out", "own.json");
    cli.files.set("own.json", own.files.get("own.json")!);
    const { kid } = fields((await cli.ok("clients", "add-key", id!, "--public-key", "own.json")).stdout);
    const record = await (await admin("GET", `/admin/clients/${id}`)).json<any>();
    expect(record.jwks.keys.map((k: any) => k.kid)).toContain(kid);
    expect(record.jwks.keys.every((k: any) => k.d === undefined)).toBe(true);
    await cli.ok("token", "--client-id", id!, "--key", "own.json");
  });
});

describe("ets: connection and credentials", () => {
  it("needs an admin token for a non-loopback URL, and reports a wrong one in one line", async () => {
    const cli = cliHarness();
    cli.env = { ETS_URL: ISSUER };
    const missing = await cli.run("clients", "list");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("ets: no admin token: set ETS_ADMIN_TOKEN (or pass --admin-token-file FILE)\n");
    cli.env.ETS_ADMIN_TOKEN = "nope";
    const wrong = await cli.run("clients", "list");
    expect(wrong).toMatchObject({ code: 1, stderr: "ets: GET /admin/clients?limit=100: 401 invalid_token: a valid admin bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)\n" });
  });

  it("reads the local admin token from .dev.vars (where `npm start` keeps it) for a loopback URL only", async () => {
    const seen: string[] = [];
    const cli = cliHarness({
      fetch: async (input, init) => {
        seen.push(`${input} ${new Headers(init?.headers).get("Authorization")}`);
        return Response.json({ clients: [] });
      },
    });
    cli.env = {};
    cli.files.set(".dev.vars", { text: "ADMIN_TOKEN=local-token\n", mode: 0o600 });
    await cli.ok("clients", "list");
    expect(seen).toEqual(["http://127.0.0.1:8787/admin/clients?limit=100 Bearer local-token"]);
    cli.files.set(".dev.vars", { text: 'SIGNING_KEYS=\'{"keys":[]}\'\nADMIN_TOKEN="from-dev-vars"\n', mode: 0o600 });
    await cli.ok("clients", "list", "--url", "http://localhost:8793/");
    expect(seen[1]).toBe("http://localhost:8793/admin/clients?limit=100 Bearer from-dev-vars");
    // Never sent to another host.
    const remote = await cli.run("clients", "list", "--url", "https://auth.example.com");
    expect(remote.stderr).toMatch(/no admin token/);
    expect(seen).toHaveLength(2);
  });

  it("says when the server cannot be reached", async () => {
    const cli = cliHarness({ fetch: async () => Promise.reject(new TypeError("connect ECONNREFUSED 127.0.0.1:8787")) });
    cli.env = { ETS_ADMIN_TOKEN: "t" };
    const { code, stderr } = await cli.run("clients", "list");
    expect(code).toBe(1);
    expect(stderr).toBe("ets: cannot reach http://127.0.0.1:8787 (is `npm start` running?): connect ECONNREFUSED 127.0.0.1:8787\n");
  });

  it("prints help", async () => {
    const cli = cliHarness();
    const { code, stdout } = await cli.run("--help");
    expect(code).toBe(0);
    for (const command of ["clients create", "clients list", "clients show", "clients disable", "clients enable", "clients delete", "clients rotate-secret", "clients add-key", "clients remove-key", "keys generate", "keys rotate", "keys promote", "keys retire", "assertion", "token"]) {
      expect(stdout).toContain(`  ${command}`);
    }
    expect((await cli.run("clients", "create", "--help")).stdout).toMatch(/^usage: ets clients create --name N/);
  });
});
