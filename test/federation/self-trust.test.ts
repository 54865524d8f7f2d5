/**
 * No self-trust (SPEC §9, issue 18 item 2): this server's own issuer is never a trusted issuer,
 * and a token typed as an access token (`typ: at+jwt`) is never a federated client assertion, so
 * client A's access token can never authenticate as client B — even when a record trusting this
 * server got into KV around the admin API.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { ClientRecord } from "../../src/core/client-record.js";
import { JWT_BEARER_GRANT } from "../../src/core/protocol.js";
import type { TrustedIssuerRecord } from "../../src/core/federation.js";
import { clientKey, trustedIssuerKey } from "../../src/stores/kv-keys.js";
import { ADMIN_TOKEN, callWorker, expectOAuthError, ISSUER, JWT_BEARER, keyAssertion, nowSeconds, postForm, registerKeyClient, tokenWithAssertion, uniqueId } from "../helpers.js";
import { fakeIssuer, type FakeIssuer } from "./fake-issuers.js";

/** Another key the record trusts besides this server's own (the same record for every test: the registry caches it). */
let forger: FakeIssuer;
beforeAll(async () => {
  forger = await fakeIssuer("ES256");
  const serverKeys = await (await callWorker("/.well-known/jwks.json")).json<{ keys: unknown[] }>();
  const now = nowSeconds();
  const issuerRecord: TrustedIssuerRecord = {
    issuer: ISSUER,
    jwks: { keys: [...serverKeys.keys, forger.publicJwk] as never },
    allowed_algs: ["ES256", "RS256"],
    max_token_lifetime: 3600,
    shared: false,
    jti_policy: "single_use",
    created_at: now,
    updated_at: now,
  };
  await env.CLIENTS.put(trustedIssuerKey(ISSUER), JSON.stringify(issuerRecord));
});

/** A client B whose federated credential admits `subject` of this server's own issuer, written straight into KV. */
async function clientTrustingThisServer(subject: string): Promise<string> {
  const now = nowSeconds();
  const clientB: ClientRecord = {
    client_id: uniqueId("client-b"),
    token_endpoint_auth_method: "private_key_jwt",
    scope: "read write admin",
    grant_types: ["client_credentials"],
    resources: [],
    dpop_bound_access_tokens: false,
    disabled: false,
    federated_credentials: [{ name: "a", issuer: ISSUER, subject }],
    replay_guard_shards: 1,
    created_at: now,
    updated_at: now,
  } as ClientRecord;
  await env.CLIENTS.put(clientKey(clientB.client_id), JSON.stringify(clientB));
  return clientB.client_id;
}

const asClient = (clientId: string, assertion: string) =>
  postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: assertion });

describe("no self-trust (issue 18)", () => {
  it("client A's access token does not authenticate as client B", async () => {
    const a = await registerKeyClient();
    const issued = await tokenWithAssertion(await keyAssertion(a));
    expect(issued.status).toBe(200);
    const { access_token } = await issued.json<{ access_token: string }>();
    const b = await clientTrustingThisServer(a.clientId);
    const body = await expectOAuthError(await asClient(b, access_token), 401, "invalid_client");
    expect(body.error_description).toMatch(/typed as an access token \(typ at\+jwt\)/);
  });

  it("a token whose iss is this server's issuer is refused on the federated path, whatever its typ", async () => {
    const b = await clientTrustingThisServer("workload");
    const now = nowSeconds();
    const token = await forger.sign({ iss: ISSUER, sub: "workload", aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() });
    const body = await expectOAuthError(await asClient(b, token), 401, "invalid_client");
    expect(body.error_description).toMatch(/this server's own issuer/);
  });

  it("neither is accepted as the JWT bearer grant's assertion (SPEC §13): 400 invalid_grant naming the rule", async () => {
    const a = await registerKeyClient();
    const { access_token } = await (await tokenWithAssertion(await keyAssertion(a))).json<{ access_token: string }>();
    await clientTrustingThisServer(a.clientId);
    const typed = await expectOAuthError(await postForm({ grant_type: JWT_BEARER_GRANT, assertion: access_token }), 400, "invalid_grant");
    expect(typed.error_description).toMatch(/typed as an access token \(typ at\+jwt\)/);
    const now = nowSeconds();
    const own = await forger.sign({ iss: ISSUER, sub: "workload", aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() });
    const self = await expectOAuthError(await postForm({ grant_type: JWT_BEARER_GRANT, assertion: own }), 400, "invalid_grant");
    expect(self.error_description).toMatch(/this server's own issuer/);
  });

  it("a federated credential naming this server's issuer is refused at registration", async () => {
    const res = await callWorker("/admin/clients", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: uniqueId("self"), federated_credentials: [{ name: "x", issuer: ISSUER, subject: "someone" }] }),
    });
    const body = await expectOAuthError(res, 400, "invalid_client_metadata");
    expect(body.error_description).toMatch(/^federated_credentials\.0\.issuer: is this server's own issuer/);
  });
});
