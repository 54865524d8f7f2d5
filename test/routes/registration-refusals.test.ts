/**
 * SPEC §6: registration refuses what could never authenticate, naming the field: two keys with
 * one kid, a key that cannot verify the registered token_endpoint_auth_signing_alg, both jwks and
 * jwks_uri in one create or PATCH. EdDSA and Ed25519 are one algorithm for an Ed25519 key.
 */
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { admin, expectOAuthError, keyAssertion, registerClient, tokenWithAssertion, uniqueId } from "../helpers.js";

async function publicJwk(alg: string, kid: string, crv?: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048, ...(crv ? { crv } : {}) });
  return { jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" }, privateKey };
}

describe("registration refuses what could never authenticate", () => {
  it("two keys with one kid: 400 naming jwks, at create, in a PATCH and when adding a key", async () => {
    const a = await publicJwk("ES256", "same");
    const b = await publicJwk("ES256", "same");
    const created = await expectOAuthError(await admin("POST", "/admin/clients", { jwks: { keys: [a.jwk, b.jwk] } }), 400, "invalid_client_metadata");
    expect(created.error_description).toMatch(/^jwks: .*kid/);
    const clientId = uniqueId("dup");
    await registerClient({ client_id: clientId, jwks: { keys: [a.jwk] } });
    const patched = await expectOAuthError(await admin("PATCH", `/admin/clients/${clientId}`, { jwks: { keys: [a.jwk, b.jwk] } }), 400, "invalid_client_metadata");
    expect(patched.error_description).toMatch(/^jwks: .*kid/);
  });

  it("a key that cannot verify the registered alg: 400 naming the field", async () => {
    const ec = await publicJwk("ES256", "ec");
    const rsa = await publicJwk("RS256", "rsa");
    const cases: Record<string, unknown>[] = [
      { token_endpoint_auth_signing_alg: "RS256", jwks: { keys: [ec.jwk] } },
      { token_endpoint_auth_signing_alg: "ES384", jwks: { keys: [ec.jwk] } },
      { token_endpoint_auth_signing_alg: "ES256", jwks: { keys: [ec.jwk, rsa.jwk] } },
      { token_endpoint_auth_signing_alg: "PS256", jwks: { keys: [rsa.jwk] } }, // the key says RS256
    ];
    for (const metadata of cases) {
      const body = await expectOAuthError(await admin("POST", "/admin/clients", metadata), 400, "invalid_client_metadata");
      expect(body.error_description, JSON.stringify(metadata.token_endpoint_auth_signing_alg)).toMatch(/^(jwks|token_endpoint_auth_signing_alg): /);
    }
    // A PATCH that changes the alg under the registered keys is refused the same way.
    const clientId = uniqueId("alg");
    await registerClient({ client_id: clientId, jwks: { keys: [ec.jwk] } });
    const patched = await expectOAuthError(await admin("PATCH", `/admin/clients/${clientId}`, { token_endpoint_auth_signing_alg: "RS256" }), 400, "invalid_client_metadata");
    expect(patched.error_description).toMatch(/^(jwks|token_endpoint_auth_signing_alg): /);
  });

  it("both jwks and jwks_uri in one create or one PATCH: 400 naming them, the record unchanged", async () => {
    const ec = await publicJwk("ES256", "ec");
    const both = { jwks: { keys: [ec.jwk] }, jwks_uri: "https://keys.example/jwks.json" };
    const created = await expectOAuthError(await admin("POST", "/admin/clients", both), 400, "invalid_client_metadata");
    expect(created.error_description).toMatch(/^jwks_uri: .*both/);
    const clientId = uniqueId("both");
    await registerClient({ client_id: clientId, jwks: { keys: [ec.jwk] } });
    const patched = await expectOAuthError(await admin("PATCH", `/admin/clients/${clientId}`, both), 400, "invalid_client_metadata");
    expect(patched.error_description).toMatch(/^jwks_uri: .*both/);
    expect((await (await admin("GET", `/admin/clients/${clientId}`)).json<any>()).jwks.keys).toHaveLength(1);
  });

  it("EdDSA and Ed25519 are one algorithm: a client registered with either accepts either", async () => {
    for (const registered of ["EdDSA", "Ed25519"]) {
      for (const jwkAlg of ["EdDSA", "Ed25519"]) {
        const { privateKey, publicKey } = await generateKeyPair("Ed25519", { extractable: true });
        const kid = `ed-${crypto.randomUUID().slice(0, 6)}`;
        const jwk = { ...(await exportJWK(publicKey)), kid, alg: jwkAlg, use: "sig" };
        const clientId = uniqueId("ed");
        await registerClient({ client_id: clientId, token_endpoint_auth_signing_alg: registered, jwks: { keys: [jwk] } });
        for (const used of ["EdDSA", "Ed25519"]) {
          const assertion = await keyAssertion({ clientId, privateKey, publicJwk: jwk, kid, alg: used });
          const res = await tokenWithAssertion(assertion);
          expect(res.status, `registered ${registered}, key ${jwkAlg}, signed ${used}: ${await res.clone().text()}`).toBe(200);
        }
      }
    }
  });

  it("a JWK with a deeply nested unknown member: 400 naming the member, never a 503 (issue 18)", async () => {
    const { jwk } = await publicJwk("ES256", "deep");
    let nested: unknown = "x";
    for (let i = 0; i < 5000; i++) nested = { a: nested };
    const clientId = uniqueId("deep");
    const created = await expectOAuthError(await admin("POST", "/admin/clients", { client_id: clientId, jwks: { keys: [{ ...jwk, x_extra: nested }] } }), 400, "invalid_client_metadata");
    expect(created.error_description).toMatch(/^jwks\.keys\.0\.x_extra: /);
    await registerClient({ client_id: clientId, jwks: { keys: [jwk] } });
    const added = await expectOAuthError(await admin("POST", `/admin/clients/${clientId}/keys`, { ...jwk, kid: "deeper", x_extra: nested }), 400, "invalid_client_metadata");
    expect(added.error_description).toMatch(/x_extra: /);
    const issuer = await expectOAuthError(await admin("POST", "/admin/trusted-issuers", { issuer: "https://deep.example", shared: false, jwks: { keys: [{ ...jwk, x_extra: nested }] } }), 400, "invalid_request");
    expect(issuer.error_description).toMatch(/^jwks\.keys\.0\.x_extra: /);
  });
});
