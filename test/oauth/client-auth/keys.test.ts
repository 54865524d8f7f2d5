/**
 * candidateKeys (SPEC §3 rule 4): every key that may have signed a client's assertion, in one list
 * gathered before the signature is verified once: the current secret then, during a rotation's
 * overlap, the previous one; or the one registered JWK matching alg and kid.
 */
import type { JWK } from "jose";
import { describe, expect, it } from "vitest";
import { candidateKeys, type CandidateKeySources } from "../../../src/oauth/client-auth/keys.js";
import { inlineKeySource } from "../../../src/core/key-sources.js";
import type { ClientRecord } from "../../../src/core/client-record.js";
import { generateSecretBoxKey, loadSecretBox } from "../../../src/stores/secret-box.js";
import { outcome } from "../../support/reason.js";

const NOW = 1_800_000_000;
const decoder = new TextDecoder();

async function secretClient(current: string, previous?: { secret: string; expiresAt: number }) {
  const box = await loadSecretBox(generateSecretBoxKey());
  const client = {
    client_id: "c",
    token_endpoint_auth_method: "client_secret_jwt",
    client_secret_sealed: await box.seal("c", current),
    ...(previous ? { client_secret_previous_sealed: await box.seal("c", previous.secret), client_secret_previous_expires_at: previous.expiresAt } : {}),
  } as ClientRecord;
  const sources: CandidateKeySources = { keySource: inlineKeySource, secretBox: async () => box };
  return { client, sources };
}

const texts = (keys: readonly unknown[]) => keys.map((key) => decoder.decode(key as Uint8Array));
const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "ok";
  } catch (err) {
    return outcome(() => {
      throw err;
    });
  }
};

describe("client_secret_jwt: the client's secrets", () => {
  const current = "c".repeat(64);
  const previous = "p".repeat(64);

  it("the current secret, then the previous one while it is live", async () => {
    const { client, sources } = await secretClient(current, { secret: previous, expiresAt: NOW + 1 });
    expect(texts(await candidateKeys(client, "HS256", undefined, sources, NOW))).toEqual([current, previous]);
  });

  it("only the current secret once the previous one has expired", async () => {
    const { client, sources } = await secretClient(current, { secret: previous, expiresAt: NOW });
    expect(texts(await candidateKeys(client, "HS256", undefined, sources, NOW))).toEqual([current]);
  });

  it("a current secret shorter than the HMAC output is refused; a short previous one is no candidate", async () => {
    const { client, sources } = await secretClient("c".repeat(32), { secret: "p".repeat(63), expiresAt: NOW + 1 });
    expect(texts(await candidateKeys(client, "HS256", undefined, sources, NOW))).toEqual(["c".repeat(32), "p".repeat(63)]);
    expect(await rejection(candidateKeys(client, "HS384", undefined, sources, NOW))).toBe("invalid_client/assertion_secret_too_short");
    const long = await secretClient("c".repeat(64), { secret: "p".repeat(47), expiresAt: NOW + 1 });
    expect(texts(await candidateKeys(long.client, "HS384", undefined, long.sources, NOW))).toEqual(["c".repeat(64)]);
  });

  it("a client without a readable current secret fails as a wrong secret", async () => {
    const { client, sources } = await secretClient(current);
    const other = await loadSecretBox(generateSecretBoxKey());
    expect(await rejection(candidateKeys(client, "HS256", undefined, { ...sources, secretBox: async () => other }, NOW))).toBe("invalid_client/secret_mismatch");
    expect(await rejection(candidateKeys({ ...client, client_secret_sealed: undefined }, "HS256", undefined, sources, NOW))).toBe("invalid_client/secret_mismatch");
  });
});

describe("private_key_jwt: the client's registered keys", () => {
  const ec = (kid: string): JWK => ({ kty: "EC", crv: "P-256", kid, x: "x", y: "y" });
  const keyClient = (keys: JWK[]) => ({ client_id: "c", token_endpoint_auth_method: "private_key_jwt", jwks: { keys } }) as ClientRecord;
  const sources: CandidateKeySources = { keySource: inlineKeySource, secretBox: async () => { throw new Error("no secret for key clients"); } };

  it("the one key matching alg and kid", async () => {
    const keys = [ec("a"), ec("b")];
    expect(await candidateKeys(keyClient(keys), "ES256", "b", sources, NOW)).toEqual([keys[1]]);
  });

  it("no match, several matches without kid, and a weak RSA key are refused", async () => {
    expect(await rejection(candidateKeys(keyClient([ec("a")]), "ES256", "z", sources, NOW))).toBe("invalid_client/assertion_key_not_found");
    expect(await rejection(candidateKeys(keyClient([ec("a")]), "ES384", "a", sources, NOW))).toBe("invalid_client/assertion_key_not_found");
    expect(await rejection(candidateKeys(keyClient([ec("a"), ec("b")]), "ES256", undefined, sources, NOW))).toBe("invalid_client/assertion_key_ambiguous");
    const weak: JWK = { kty: "RSA", kid: "r", n: "A".repeat(171), e: "AQAB" };
    expect(await rejection(candidateKeys(keyClient([weak]), "RS256", "r", sources, NOW))).toBe("invalid_client/assertion_key_too_weak");
  });
});
