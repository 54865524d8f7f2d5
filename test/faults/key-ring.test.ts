/**
 * Faults of the key ring (SPEC §12, SIGNING_KEY_ROTATION = "auto"): an unreachable ring object,
 * and a ring that names no signing key, fail closed — 503 `temporarily_unavailable` on the token
 * endpoint and the JWKS, no token, the assertion not burnt — and nothing logged carries key
 * material.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { keyAssertion, postForm, registerKeyClient, TOKEN_URL, JWT_BEARER, callWorker, type EnvOverrides } from "../support/helpers.js";
import { captureWorkerLogs, expectUnavailable } from "../support/faults.js";

const logs = captureWorkerLogs();

/** A SIGNING_KEY_RING namespace whose object answers `snapshot` with `snapshot()`. */
function faultyRing(snapshot: () => Promise<unknown>): unknown {
  return {
    idFromName: (name: string) => env.SIGNING_KEY_RING.idFromName(name),
    get: () => ({ snapshot }),
  };
}

const auto = (ring: unknown): EnvOverrides => ({ SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined, SIGNING_KEY_RING: ring });

describe("faults: the key ring", () => {
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ["the ring object cannot be reached", () => Promise.reject(new Error("Durable Object reset (injected fault)")), /the signing key ring could not be reached/],
    ["the ring names no key that signs now", async () => ({ keys: [], taken_at: 0, valid_until: Math.floor(Date.now() / 1000) + 60 }), /the signing key ring has no key that signs at this instant/],
  ];
  for (const [name, snapshot, description] of cases) {
    it(`${name}: 503 on the token endpoint and the JWKS, no token, the assertion still usable`, async () => {
      const client = await registerKeyClient("ES256");
      const assertion = await keyAssertion(client);
      const form = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion };
      logs.clear();
      const refused = await expectUnavailable(await postForm(form, {}, TOKEN_URL, auto(faultyRing(snapshot))));
      expect(refused.error_description).toMatch(description);
      expect((await expectUnavailable(await callWorker("/.well-known/jwks.json", {}, auto(faultyRing(snapshot))))).error_description).toMatch(description);
      // The keys are read before the jti is committed: the same assertion works once the ring is back.
      const res = await postForm(form, {}, TOKEN_URL, { SIGNING_KEY_ROTATION: "auto", SIGNING_KEYS: undefined });
      expect(res.status).toBe(200);
      for (const line of logs.lines()) expect(line).not.toMatch(/"d":|sealed_private_jwk|eyJ/);
    });
  }
});
