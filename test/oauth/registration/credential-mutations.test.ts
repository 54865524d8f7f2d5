/** A client's federated credentials as pure mutations (SPEC §9): added and removed by name, never the last way to authenticate. */
import { describe, expect, it } from "vitest";
import { withCredentialAdded, withCredentialRemoved } from "../../../src/oauth/registration/credential-mutations.js";
import { credential, keyClient, NOW, refusal, secretClient } from "../../support/registration-records.js";

describe("withCredentialAdded / withCredentialRemoved", () => {
  it("adds and removes a credential by name", () => {
    const added = withCredentialAdded(keyClient(), credential("ci"), NOW);
    expect(added.federated_credentials?.map((c) => c.name)).toEqual(["ci"]);
    expect("federated_credentials" in withCredentialRemoved(added, "ci", NOW)).toBe(false);
  });

  it("refuses a taken name and secret clients", () => {
    const withOne = withCredentialAdded(keyClient(), credential("ci"), NOW);
    expect(refusal(() => withCredentialAdded(withOne, credential("ci"), NOW))).toBe('conflict: the client already has a federated credential named "ci"');
    expect(refusal(() => withCredentialAdded(secretClient(), credential("ci"), NOW))).toBe(
      "invalid_client_metadata: token_endpoint_auth_method: federated credentials are for private_key_jwt clients only",
    );
  });

  it("never removes a client's last way to authenticate", () => {
    const { jwks: _k, ...keyless } = keyClient({ federated_credentials: [credential("ci")] });
    expect(refusal(() => withCredentialRemoved(keyless, "ci", NOW))).toBe(
      "conflict: this is the client's last way to authenticate; add a key or another credential first",
    );
    expect(refusal(() => withCredentialRemoved(keyless, "other", NOW))).toBe("not_found: the client has no federated credential with that name");
  });
});
