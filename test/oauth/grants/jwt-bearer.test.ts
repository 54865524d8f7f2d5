/**
 * The JWT bearer grant's pure rules (SPEC §13): which `aud` values name this server, how the
 * SPEC §9 rules' failures read on this grant, and "exactly one matching credential across all
 * clients".
 */
import { describe, expect, it } from "vitest";
import type { ClientRecord } from "../../../src/core/client-record.js";
import { CLIENT_AUTH_FAILURES, JWT_BEARER_GRANT_FAILURES } from "../../../src/core/error-catalogue.js";
import { OAuthError } from "../../../src/core/errors.js";
import type { FederatedCredential } from "../../../src/core/federation.js";
import { asGrantFailure, jwtBearerAudiences, selectJwtBearerMatch, type JwtBearerCandidate } from "../../../src/oauth/grants/jwt-bearer.js";
import { outcome } from "../reason.js";

const SERVER = "https://issuer.test";
const TOKEN_URL = `${SERVER}/oauth2/token`;
const credential: FederatedCredential = { name: "wl", issuer: "https://ci.example", subject: "wl", grants: ["jwt_bearer"] };
const client = (client_id: string): ClientRecord => ({
  client_id, token_endpoint_auth_method: "private_key_jwt", scope: "", grant_types: ["client_credentials"], resources: [], dpop_bound_access_tokens: false, disabled: false, created_at: 0, updated_at: 0, replay_guard_shards: 64,
});

describe("aud: the token endpoint URL or the issuer identifier, each with or without one trailing /, or the credential's audience", () => {
  it("lists exactly those", () => {
    expect(jwtBearerAudiences(credential, SERVER, TOKEN_URL).sort()).toEqual([SERVER, `${SERVER}/`, TOKEN_URL, `${TOKEN_URL}/`].sort());
  });
  it("adds a credential's own audience, and folds nothing else (no case, no second slash)", () => {
    const audiences = jwtBearerAudiences({ ...credential, audience: "urn:example:this-server" }, SERVER, TOKEN_URL);
    expect(audiences).toContain("urn:example:this-server");
    for (const other of [`${SERVER}//`, SERVER.toUpperCase(), `${TOKEN_URL}//`, `${SERVER}/oauth2`]) expect(audiences).not.toContain(other);
  });
});

describe("the SPEC §9 rules on this grant: invalid_grant, one text per rule", () => {
  const federated = Object.keys(CLIENT_AUTH_FAILURES).filter((r) => r.startsWith("federated_") || ["assertion_too_large", "assertion_is_jwe", "assertion_not_jws", "assertion_alg_none", "assertion_crit_unsupported", "assertion_payload_invalid"].includes(r));
  it("maps every rule a grant assertion can break to its own invalid_grant reason", () => {
    const mapped = new Map<string, string>();
    for (const reason of federated) {
      const err = reason === "federated_claim_mismatch" ? new OAuthError(reason, "repository_id") : new OAuthError(reason as never);
      const failure = asGrantFailure(err) as OAuthError;
      if (failure === err) continue; // not a rule of this grant (client-assertion only)
      expect(failure.error, reason).toBe("invalid_grant");
      expect(failure.status).toBe(400);
      mapped.set(reason, failure.reason);
    }
    expect(new Set(mapped.values()).size).toBe(mapped.size);
    // Every rule of the grant's assertion: parse, issuer, alg, keys, signature, claims, credential rules.
    expect(mapped.size).toBeGreaterThanOrEqual(26);
    expect((asGrantFailure(new OAuthError("federated_claim_mismatch", "repository_id")) as OAuthError).description).toMatch(/pinned value: repository_id$/);
  });
  it("leaves 503s alone", () => {
    const down = new OAuthError("trusted_issuer_store_unavailable", "read");
    expect(asGrantFailure(down)).toBe(down);
  });
  it("every grant text is distinct and names the assertion, not a client_assertion", () => {
    const texts = Object.values(JWT_BEARER_GRANT_FAILURES).map((e) => e.description);
    expect(new Set(texts).size).toBe(texts.length);
    for (const text of texts) expect(text).not.toMatch(/client_assertion/);
  });
});

describe("exactly one matching credential across all clients", () => {
  const failing = (id: string): JwtBearerCandidate => ({ client: client(id), credential, failure: new OAuthError("jwt_bearer_sub_mismatch") });
  const matching = (id: string): JwtBearerCandidate => ({ client: client(id), credential });
  const select = (candidates: JwtBearerCandidate[], named?: string) => outcome(() => selectJwtBearerMatch({ candidates }, named));

  it("one match wins, among any number of failures", () => {
    expect(selectJwtBearerMatch({ candidates: [failing("a"), matching("b"), failing("c")] }).client.client_id).toBe("b");
  });
  it("two matches, of one client or two, are refused", () => {
    expect(select([matching("a"), matching("b")])).toBe("invalid_grant/jwt_bearer_several_matched");
    expect(select([matching("a"), matching("a")])).toBe("invalid_grant/jwt_bearer_several_matched");
  });
  it("no match: a single candidate's own rule, else 'no credential matches'", () => {
    expect(select([failing("a")])).toBe("invalid_grant/jwt_bearer_sub_mismatch");
    expect(select([failing("a"), failing("b")])).toBe("invalid_grant/jwt_bearer_no_credential_matched");
  });
  it("a client the request names or authenticates must be the match's", () => {
    expect(select([matching("a")], "a")).toBe("ok");
    expect(select([matching("a")], "b")).toBe("invalid_grant/jwt_bearer_client_mismatch");
  });
  it("an evaluation that failed before any credential reports that failure", () => {
    expect(outcome(() => selectJwtBearerMatch({ failure: new OAuthError("jwt_bearer_expired"), candidates: [matching("a")] }))).toBe("invalid_grant/jwt_bearer_expired");
  });
});
