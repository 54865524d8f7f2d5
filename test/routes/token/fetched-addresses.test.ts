/**
 * SPEC §6: a jwks_uri naming a loopback, private, link-local or unspecified address (as an IP
 * literal in any spelling URL parsing accepts), a localhost name or a trailing-dot host is refused
 * at registration (400 naming jwks_uri) and, for a record that got into KV some other way, at fetch
 * time (invalid_client, nothing fetched).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { admin, expectOAuthError, keyAssertion, tokenWithAssertion, uniqueId } from "../../support/helpers.js";
import { clientKeyPair, jwksHost, routeFetchTo, type JwksHost } from "../../support/jwks-host.js";
import { putClientRecord } from "../../support/raw.js";

const INTERNAL = [
  "https://localhost./jwks.json",
  "https://foo.localhost/jwks.json",
  "https://keys.example./jwks.json",
  "https://127.0.0.2/jwks.json",
  "https://0x7f.1/jwks.json",
  "https://[::ffff:7f00:1]/jwks.json",
  "https://[::ffff:127.0.0.1]/jwks.json",
  "https://0.0.0.0/jwks.json",
  "https://[::]/jwks.json",
  "https://10.1.2.3/jwks.json",
  "https://172.16.0.1/jwks.json",
  "https://192.168.0.10/jwks.json",
  "https://100.64.0.1/jwks.json",
  "https://169.254.169.254/latest/meta-data",
  "https://[fe80::1]/jwks.json",
  "https://[fd12:3456::1]/jwks.json",
];

let host: JwksHost;
beforeEach(() => {
  host = jwksHost();
  routeFetchTo(host);
});
afterEach(() => vi.restoreAllMocks());

describe("jwks_uri addresses", () => {
  it("are refused at registration and in a PATCH, naming jwks_uri", async () => {
    const existing = uniqueId("addr");
    expect((await admin("POST", "/admin/clients", { client_id: existing, jwks_uri: "https://keys.example/jwks.json" })).status).toBe(201);
    for (const uri of INTERNAL) {
      const created = await expectOAuthError(await admin("POST", "/admin/clients", { jwks_uri: uri }), 400, "invalid_client_metadata");
      expect(created.error_description, uri).toMatch(/^jwks_uri: /);
      const patched = await expectOAuthError(await admin("PATCH", `/admin/clients/${existing}`, { jwks_uri: uri }), 400, "invalid_client_metadata");
      expect(patched.error_description, uri).toMatch(/^jwks_uri: /);
    }
  });

  it("are never fetched for a record written around the admin API: invalid_client naming the rule", async () => {
    const key = await clientKeyPair("ES256");
    for (const uri of INTERNAL) {
      const clientId = uniqueId("stored-addr");
      await putClientRecord({ client_id: clientId, token_endpoint_auth_method: "private_key_jwt", jwks_uri: uri });
      host.serveKeys(uri, [key.publicJwk]);
      const res = await tokenWithAssertion(await keyAssertion({ clientId, privateKey: key.privateKey, publicJwk: key.publicJwk, kid: key.kid, alg: key.alg }));
      const body = await expectOAuthError(res, 401, "invalid_client");
      expect(body.error_description, uri).toMatch(/jwks_uri names an address/);
    }
    expect(host.requests).toEqual([]);
  });
});
