/** Trusted issuer records as pure mutations (SPEC §9): created once, patched, deleted. */
import { describe, expect, it } from "vitest";
import { PUBLIC_ADDRESSES } from "../../../src/core/addresses.js";
import type { TrustedIssuerRecord } from "../../../src/core/federation.js";
import { createdIssuer, deletedIssuer, patchedIssuer } from "../../../src/oauth/registration/trusted-issuer-mutations.js";
import { EARLIER, NOW, refusal } from "../../support/registration-records.js";

describe("trusted issuer mutations", () => {
  const issuer: TrustedIssuerRecord = {
    issuer: "https://issuer.example",
    jwks_uri: "https://issuer.example/jwks",
    allowed_algs: ["RS256"],
    max_token_lifetime: 3_600,
    shared: false,
    jti_policy: "single_use",
    created_at: EARLIER,
    updated_at: EARLIER,
  };

  it("creates once, deletes an existing one", () => {
    expect(createdIssuer(null, issuer)).toBe(issuer);
    expect(refusal(() => createdIssuer(issuer, issuer))).toBe("conflict: this issuer is already trusted; change it with PATCH");
    expect(deletedIssuer(issuer)).toBeNull();
    expect(refusal(() => deletedIssuer(null))).toBe("not_found: no trusted issuer with that issuer identifier");
  });

  it("a new key source replaces the old one; created_at stays", () => {
    const next = patchedIssuer(issuer, { discovery: true }, PUBLIC_ADDRESSES, NOW);
    expect([next.discovery, next.jwks_uri, next.created_at, next.updated_at]).toEqual([true, undefined, EARLIER, NOW]);
  });
});
