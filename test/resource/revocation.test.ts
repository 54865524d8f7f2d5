/**
 * edge-token-service/resource: the optional online revocation check through this service's
 * introspection endpoint (the resource server authenticates as a client).
 */
import { exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import { createClientAssertion } from "../../src/client/assertion.js";
import { verifyAccessToken } from "../../src/resource/index.js";
import type { RevocationOptions } from "../../src/resource/revocation.js";
import { registerKeyClient, registerSecretClient } from "../support/helpers.js";
import { INTROSPECT_URL, revoke } from "../support/lifecycle.js";
import { expectRejected, mintToken, options, registerResourceClient, workerFetch } from "../support/resource.js";

/** The resource server's own client at the issuer, allowed to introspect any token. */
async function resourceServerClient(): Promise<{ clientId: string; clientSecret: string }> {
  const { clientId, secret } = await registerSecretClient("client_secret_basic", { introspection_allowed: true, scope: "" });
  return { clientId, clientSecret: secret };
}

describe("verifyAccessToken with revocation: the issuer's introspection endpoint", () => {
  it("accepts an active token and refuses it once revoked (cacheSeconds 0: asked every time)", async () => {
    const owner = await registerResourceClient();
    const token = await mintToken(owner);
    const revocation: RevocationOptions = { ...(await resourceServerClient()), onFailure: "closed", cacheSeconds: 0 };
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    expect((await revoke(owner, token)).status).toBe(200);
    await expectRejected(verifyAccessToken(token, options({ revocation, fetch: fetchImpl })), 401, "invalid_token", /revoked or is no longer active/);
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(2);
    // Without the revocation option the token still passes every local check: that is what the option adds.
    await expect(verifyAccessToken(token, options())).resolves.toBeTruthy();
  });

  it("reuses an answer for cacheSeconds (a revoked token keeps working that long), one introspection call", async () => {
    const owner = await registerResourceClient();
    const token = await mintToken(owner);
    const revocation: RevocationOptions = { ...(await resourceServerClient()), onFailure: "closed", cacheSeconds: 30 };
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    await revoke(owner, token);
    await verifyAccessToken(token, options({ revocation, fetch: fetchImpl }));
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(1);
  });

  it("unreachable introspection: onFailure closed → 503, open → the locally valid token passes", async () => {
    const token = await mintToken(await registerResourceClient());
    const rs = await resourceServerClient();
    const down = () => workerFetch((url) => (url.pathname === "/oauth2/introspect" ? new Response("down", { status: 503 }) : undefined));
    await expectRejected(verifyAccessToken(token, options({ revocation: { ...rs, onFailure: "closed" }, fetch: down() })), 503, "temporarily_unavailable", /introspection endpoint could not be fetched/);
    await expect(verifyAccessToken(token, options({ revocation: { ...rs, onFailure: "open" }, fetch: down() }))).resolves.toBeTruthy();
  });

  it("a resource server that may not introspect others' tokens sees them inactive: refused, fail safe", async () => {
    const token = await mintToken(await registerResourceClient());
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    await expectRejected(verifyAccessToken(token, options({ revocation: { clientId, clientSecret: secret, onFailure: "open" } })), 401, "invalid_token", /revoked/);
  });

  it("authenticates with a private_key_jwt assertion too (edge-token-service/client)", async () => {
    const rs = await registerKeyClient("ES256", { introspection_allowed: true });
    const key = { ...(await exportJWK(rs.privateKey)), kid: rs.kid, alg: rs.alg };
    const clientAssertion = () => createClientAssertion({ clientId: rs.clientId, key, audience: INTROSPECT_URL });
    const token = await mintToken(await registerResourceClient());
    const fetchImpl = workerFetch();
    await verifyAccessToken(token, options({ revocation: { clientId: rs.clientId, clientAssertion, onFailure: "closed" }, fetch: fetchImpl }));
    expect(fetchImpl.calls.get("/oauth2/introspect")).toBe(1);
  });

  it("the failure mode must be chosen explicitly, and exactly one credential given", async () => {
    const token = await mintToken(await registerResourceClient());
    const rs = await resourceServerClient();
    await expect(verifyAccessToken(token, options({ revocation: { ...rs } as unknown as RevocationOptions }))).rejects.toThrow(/onFailure must be/);
    await expect(verifyAccessToken(token, options({ revocation: { clientId: rs.clientId, onFailure: "closed" } }))).rejects.toThrow(/exactly one/);
  });
});
