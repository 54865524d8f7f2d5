/** A client's own keys as pure mutations (SPEC §6): added beside the current ones, removed by kid, never the last. */
import { describe, expect, it } from "vitest";
import { MAX_CLIENT_KEYS, withKeyAdded, withKeyRemoved } from "../../../src/oauth/registration/key-mutations.js";
import { ecKey, keyClient, NOW, refusal, secretClient } from "../../support/registration-records.js";

describe("withKeyAdded / withKeyRemoved", () => {
  it("adds a key beside the current ones and removes one by kid", () => {
    const added = withKeyAdded(keyClient(), ecKey("b"), NOW);
    expect([added.jwks?.keys.map((k) => k.kid), added.updated_at]).toEqual([["a", "b"], NOW]);
    expect(withKeyRemoved(added, "a", NOW).jwks?.keys.map((k) => k.kid)).toEqual(["b"]);
  });

  it("refuses a taken kid, one key too many, and a key that cannot verify the registered alg", () => {
    expect(refusal(() => withKeyAdded(keyClient(), ecKey("a"), NOW))).toBe('conflict: the client already has a key with kid "a"');
    const full = keyClient({ jwks: { keys: Array.from({ length: MAX_CLIENT_KEYS }, (_, i) => ecKey(`k${i}`)) } });
    expect(refusal(() => withKeyAdded(full, ecKey("b"), NOW))).toBe(`invalid_client_metadata: jwks: a client has at most ${MAX_CLIENT_KEYS} keys; remove one first`);
    expect(refusal(() => withKeyAdded(keyClient(), { kty: "RSA", n: "AQAB", e: "AQAB", kid: "r" }, NOW))).toBe(
      "invalid_client_metadata: jwk: a RSA key cannot verify the client's token_endpoint_auth_signing_alg ES256",
    );
  });

  it("refuses secret and jwks_uri clients", () => {
    expect(refusal(() => withKeyAdded(secretClient(), ecKey("b"), NOW))).toBe(
      "invalid_client_metadata: token_endpoint_auth_method: client_secret_basic clients have no keys; rotate their secret instead",
    );
    const { jwks: _k, ...uriClient } = keyClient({ jwks_uri: "https://keys.example/jwks" });
    expect(refusal(() => withKeyRemoved(uriClient, "a", NOW))).toBe("invalid_client_metadata: jwks_uri: this client publishes its keys at its jwks_uri; change them there");
  });

  it("never removes an unknown kid or the last key", () => {
    expect(refusal(() => withKeyRemoved(keyClient(), "zz", NOW))).toBe("not_found: the client has no key with that kid");
    expect(refusal(() => withKeyRemoved(keyClient(), "a", NOW))).toBe("conflict: this is the client's last key; add its replacement before removing it");
  });
});
