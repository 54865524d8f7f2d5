/**
 * SPEC §3 rule 7 and issue 22 item 5: the issuer identifier with one trailing `/` (what Python MCP
 * clients send: pydantic URLs add it to an origin) is the same identifier, in strict and compat
 * mode alike, for client assertions and federated ones; nothing else is folded (README "Choices").
 */
import { describe, expect, it } from "vitest";
import { fakeIssuer } from "../federation/fake-issuers.js";
import { admin, callWorker, expectOAuthError, formInit, ISSUER, JWT_BEARER, keyAssertion, nowSeconds, postForm, registerClient, registerKeyClient, tokenWithAssertion, TOKEN_URL, uniqueId } from "../helpers.js";

const STRICT_TYP = "client-authentication+jwt";

describe("aud = the issuer with one trailing /", () => {
  it("is accepted for a strict-mode client, and for a compat one", async () => {
    const strict = await registerKeyClient("ES256", { audience_mode: "strict" });
    expect((await tokenWithAssertion(await keyAssertion(strict, { aud: `${ISSUER}/` }, { typ: STRICT_TYP }))).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(strict, { aud: [`${ISSUER}/`] }, { typ: STRICT_TYP }))).status).toBe(200);
    const compat = await registerKeyClient("ES256");
    expect((await tokenWithAssertion(await keyAssertion(compat, { aud: `${ISSUER}/` }))).status).toBe(200);
  });

  it("server-wide strict mode (AUDIENCE_MODE=strict) accepts it too", async () => {
    const client = await registerKeyClient("ES256");
    const res = await callWorker(TOKEN_URL, formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client, { aud: `${ISSUER}/` }, { typ: STRICT_TYP }) }), { AUDIENCE_MODE: "strict" });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("nothing else is folded: two slashes, case, the token endpoint URL with a slash", async () => {
    const strict = await registerKeyClient("ES256", { audience_mode: "strict" });
    const compat = await registerKeyClient("ES256");
    for (const aud of [`${ISSUER}//`, `${ISSUER}/`.toUpperCase()]) {
      await expectOAuthError(await tokenWithAssertion(await keyAssertion(strict, { aud }, { typ: STRICT_TYP })), 401, "invalid_client");
    }
    await expectOAuthError(await tokenWithAssertion(await keyAssertion(compat, { aud: `${TOKEN_URL}/` })), 401, "invalid_client");
  });

  it("a federated client assertion whose aud is the issuer with a trailing / matches a credential's default audience", async () => {
    const issuer = `https://${uniqueId("k8s")}.example`;
    const key = await fakeIssuer("ES256");
    expect((await admin("POST", "/admin/trusted-issuers", { issuer, jwks: { keys: [key.publicJwk] }, shared: false })).status).toBe(201);
    const clientId = uniqueId("fed");
    await registerClient({ client_id: clientId, federated_credentials: [{ name: "sa", issuer, subject: "system:serviceaccount:prod:api" }] });
    const now = nowSeconds();
    const token = await key.sign({ iss: issuer, sub: "system:serviceaccount:prod:api", aud: `${ISSUER}/`, iat: now, exp: now + 60, jti: crypto.randomUUID() });
    const res = await postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: token });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
