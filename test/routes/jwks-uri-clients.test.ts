import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KeyClient } from "../helpers.js";
import { expectOAuthError, keyAssertion, registerClient, tokenWithAssertion, uniqueId } from "../helpers.js";
import { clientKeyPair, jwksHost, routeFetchTo, stalledBody, type ClientKeyPair, type JwksHost } from "../jwks-host.js";

// The Worker runs in this isolate: its outbound fetch is the global one, served here by a fake host.
let host: JwksHost;
beforeEach(() => {
  host = jwksHost();
  routeFetchTo(host);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function remoteClient(): Promise<{ clientId: string; uri: string }> {
  const clientId = uniqueId("jwks-uri");
  const uri = `https://${clientId}.keys.example/.well-known/jwks.json`;
  await registerClient({ client_id: clientId, jwks_uri: uri, scope: "read" });
  return { clientId, uri };
}

const as = (clientId: string, key: ClientKeyPair): KeyClient => ({ clientId, privateKey: key.privateKey, publicJwk: key.publicJwk, kid: key.kid, alg: key.alg });

describe("private_key_jwt clients with a jwks_uri", () => {
  it("issues a token with a key fetched from the client's jwks_uri", async () => {
    const { clientId, uri } = await remoteClient();
    const key = await clientKeyPair("ES256");
    host.serveKeys(uri, [key.publicJwk]);
    const res = await tokenWithAssertion(await keyAssertion(as(clientId, key)));
    expect(res.status).toBe(200);
    expect(await res.json<any>()).toMatchObject({ token_type: "Bearer", scope: "read" });
    // Cached: a second token costs no fetch.
    expect((await tokenWithAssertion(await keyAssertion(as(clientId, key)))).status).toBe(200);
    expect(host.count(uri)).toBe(1);
  });

  it("follows the client's key rollover once the 30 s refetch interval has passed", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const { clientId, uri } = await remoteClient();
    const [oldKey, newKey] = [await clientKeyPair(), await clientKeyPair()];
    host.serveKeys(uri, [oldKey.publicJwk]);
    expect((await tokenWithAssertion(await keyAssertion(as(clientId, oldKey)))).status).toBe(200);

    host.serveKeys(uri, [oldKey.publicJwk, newKey.publicJwk]);
    // Too soon after the last fetch: the unknown kid is not looked up again yet.
    const early = await expectOAuthError(await tokenWithAssertion(await keyAssertion(as(clientId, newKey))), 401, "invalid_client");
    expect(early.error_description).toMatch(/no registered key/);
    expect(host.count(uri)).toBe(1);

    vi.setSystemTime(Date.now() + 31_000);
    expect((await tokenWithAssertion(await keyAssertion(as(clientId, newKey)))).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(as(clientId, oldKey)))).status).toBe(200);
    expect(host.count(uri)).toBe(2);
  });

  it("answers invalid_client (never a 5xx) when the jwks_uri host misbehaves", async () => {
    const cases: Array<[(uri: string) => void, RegExp]> = [
      [(uri) => host.serve(uri, () => new Response("<html>", { status: 500 })), /could not be fetched/],
      [(uri) => host.serve(uri, () => new Response("{nope")), /no usable JWK Set/],
      [(uri) => host.serve(uri, () => new Response(null, { status: 301, headers: { Location: "https://elsewhere.example/" } })), /could not be fetched/],
      [(uri) => host.serve(uri, () => new Response("x".repeat(70 * 1024))), /could not be fetched/],
    ];
    for (const [arrange, description] of cases) {
      const { clientId, uri } = await remoteClient();
      const key = await clientKeyPair();
      arrange(uri);
      const body = await expectOAuthError(await tokenWithAssertion(await keyAssertion(as(clientId, key))), 401, "invalid_client");
      expect(body.error_description).toMatch(description);
    }
  });

  it("refuses a set that publishes a private key", async () => {
    const { clientId, uri } = await remoteClient();
    const key = await clientKeyPair();
    host.serveKeys(uri, [key.privateJwk]);
    const body = await expectOAuthError(await tokenWithAssertion(await keyAssertion(as(clientId, key))), 401, "invalid_client");
    expect(body.error_description).toMatch(/private key material/);
  });

  it("gives up on a stalled host within the time cap", async () => {
    const { clientId, uri } = await remoteClient();
    const key = await clientKeyPair();
    host.serve(uri, () => new Response(stalledBody()));
    const started = Date.now();
    await expectOAuthError(await tokenWithAssertion(await keyAssertion(as(clientId, key))), 401, "invalid_client");
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});

describe("a jwks_uri key set in the shared Cache API (SPEC §6, issue 18)", () => {
  it("a set another Worker on the zone wrote there is never used: an attacker's key there signs nothing", async () => {
    const { clientId, uri } = await remoteClient();
    const [real, attacker] = [await clientKeyPair(), await clientKeyPair()];
    host.serveKeys(uri, [real.publicJwk]);
    // Another Worker on the same zone writes a well-formed, fresh set with its own key under the client's kid.
    const cacheKey = `https://client-jwks.cache.invalid/v1/${encodeURIComponent(clientId)}?uri=${encodeURIComponent(uri)}`;
    await caches.default.put(cacheKey, new Response(JSON.stringify({ keys: [{ ...attacker.publicJwk, kid: real.kid }] }), {
      headers: { "Content-Type": "application/json", "Cache-Control": "max-age=300", "X-Fetched-At": String(Date.now()) },
    }));
    const forged = await expectOAuthError(await tokenWithAssertion(await keyAssertion(as(clientId, { ...attacker, kid: real.kid }))), 401, "invalid_client");
    expect(forged.error_description).toMatch(/signature verification failed/);
    expect(host.count(uri)).toBe(1);
    expect((await tokenWithAssertion(await keyAssertion(as(clientId, real)))).status).toBe(200);
  });
});
