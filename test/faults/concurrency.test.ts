/**
 * Concurrency: single use holds under a burst (SPEC §3 rule 10). 200 requests in flight at once,
 * replaying 10 different assertions 20 times each across both token endpoint paths, yield
 * exactly 10 tokens — one per assertion — and 190 `invalid_client` replays, no 5xx.
 */
import { decodeJwt, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, JWT_BEARER, keyAssertion, nowSeconds, postForm, registerKeyClient, registerSecretClient } from "../support/helpers.js";
import { captureWorkerLogs } from "../support/faults.js";

captureWorkerLogs();

const ASSERTIONS = 10;
const REPLAYS = 20;

describe("concurrency: replayed assertions in one burst", () => {
  it(`${ASSERTIONS * REPLAYS} concurrent requests replaying ${ASSERTIONS} assertions ${REPLAYS} times each → exactly ${ASSERTIONS} tokens`, async () => {
    // Half private_key_jwt, half client_secret_jwt; aud is the issuer, valid on both paths.
    const keyClient = await registerKeyClient("ES256");
    const secretClient = await registerSecretClient("client_secret_jwt");
    const assertions: { clientId: string; assertion: string }[] = [];
    for (let i = 0; i < ASSERTIONS / 2; i++) {
      assertions.push({ clientId: keyClient.clientId, assertion: await keyAssertion(keyClient, { aud: ISSUER }) });
      const now = nowSeconds();
      const hs = await new SignJWT({ iss: secretClient.clientId, sub: secretClient.clientId, aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .sign(new TextEncoder().encode(secretClient.secret));
      assertions.push({ clientId: secretClient.clientId, assertion: hs });
    }

    // Interleave the replays so each assertion's copies race each other, not just in sequence.
    const requests: { index: number; promise: Promise<Response> }[] = [];
    for (let round = 0; round < REPLAYS; round++) {
      assertions.forEach(({ assertion }, index) => {
        const path = (round + index) % 2 === 0 ? "/oauth2/token" : "/auth/oauth/v2/token";
        const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion };
        requests.push({ index, promise: postForm(form, {}, path) });
      });
    }
    const results = await Promise.all(
      requests.map(async ({ index, promise }) => {
        const res = await promise;
        return { index, status: res.status, body: await res.json<Record<string, string>>() };
      }),
    );

    expect(results).toHaveLength(ASSERTIONS * REPLAYS);
    const tokens = results.filter((r) => r.status === 200);
    expect(tokens).toHaveLength(ASSERTIONS);
    // Exactly one token per assertion, issued to the assertion's client.
    expect(new Set(tokens.map((t) => t.index)).size).toBe(ASSERTIONS);
    for (const token of tokens) expect(decodeJwt(token.body.access_token!).sub).toBe(assertions[token.index]!.clientId);
    expect(new Set(tokens.map((t) => decodeJwt(t.body.access_token!).jti)).size).toBe(ASSERTIONS);
    // Every other request is a replay: invalid_client, never a 5xx.
    const replays = results.filter((r) => r.status !== 200);
    expect(replays).toHaveLength(ASSERTIONS * (REPLAYS - 1));
    for (const replay of replays) {
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe("invalid_client");
      expect(replay.body.error_description).toMatch(/already been used/);
    }
  });
});
