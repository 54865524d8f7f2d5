/**
 * The token endpoint's request handling (SPEC §2-§4): request shape, the secret-based methods,
 * no method downgrade, unknown vs disabled clients, scope, resource, token lifetime, no-store, and
 * that a request failing a later check does not burn its assertion.
 */
import { decodeJwt, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  admin,
  callWorker,
  expectOAuthError,
  formInit,
  ISSUER,
  JWT_BEARER,
  keyAssertion,
  postForm,
  registerKeyClient,
  registerSecretClient,
  TOKEN_URL,
  tokenWithAssertion,
} from "../helpers.js";

const CC = { grant_type: "client_credentials" };

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded, then base64. */
const basic = (id: string, secret: string, encode: (s: string) => string = encodeURIComponent) => `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}`;
/** Percent-encode every character, as a client may legitimately do. */
const encodeAll = (s: string) => [...new TextEncoder().encode(s)].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");

async function tokenOf(res: Response): Promise<{ body: Record<string, any>; claims: Record<string, any> }> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const body = JSON.parse(text);
  return { body, claims: decodeJwt(body.access_token) };
}

describe("request shape", () => {
  it("refuses a body that is not application/x-www-form-urlencoded", async () => {
    const client = await registerKeyClient();
    const json = JSON.stringify({ ...CC, client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const res = await callWorker(TOKEN_URL, { method: "POST", headers: { "Content-Type": "application/json" }, body: json });
    expect((await expectOAuthError(res, 400, "invalid_request")).error_description).toMatch(/application\/x-www-form-urlencoded/);
    const noType = await callWorker(TOKEN_URL, { method: "POST", body: new Blob(["grant_type=client_credentials"]) });
    await expectOAuthError(noType, 400, "invalid_request");
  });

  it("accepts the form media type with a charset parameter", async () => {
    const client = await registerKeyClient();
    const body = new URLSearchParams({ ...CC, client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const res = await callWorker(TOKEN_URL, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" }, body: body.toString() });
    await tokenOf(res);
  });

  it("refuses a missing grant_type", async () => {
    const client = await registerKeyClient();
    const res = await postForm({ client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    expect((await expectOAuthError(res, 400, "invalid_request")).error_description).toMatch(/grant_type is required/);
  });

  it("answers unsupported_grant_type for any other grant_type", async () => {
    const client = await registerKeyClient();
    for (const grant_type of ["authorization_code", "password", "urn:ietf:params:oauth:grant-type:saml2-bearer", "urn:ietf:params:oauth:grant-type:device_code"]) {
      const res = await postForm({ grant_type, client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
      await expectOAuthError(res, 400, "unsupported_grant_type");
    }
  });

  it("refuses a request without client authentication", async () => {
    const res = await postForm({ ...CC, client_id: "someone" });
    expect((await expectOAuthError(res, 401, "invalid_client")).error_description).toMatch(/no client authentication/);
  });

  it("refuses two authentication mechanisms in one request", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    const client = await registerKeyClient();
    const assertion = { client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) };
    // The other combinations are pinned in test/oauth/client-auth/presented.test.ts.
    const res = await postForm({ ...CC, ...assertion }, { Authorization: basic(clientId, secret) });
    expect((await expectOAuthError(res, 400, "invalid_request")).error_description).toMatch(/more than one client authentication mechanism/);
  });

  it("answers a body over the size limit with 413 and an invalid_request body, with or without Content-Length", async () => {
    const big = `grant_type=client_credentials&padding=${"x".repeat(17 * 1024)}`;
    const sized = await postForm(big);
    expect((await expectOAuthError(sized, 413, "invalid_request")).error_description).toMatch(/larger than/);
    const streamed = await callWorker(TOKEN_URL, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new Blob([big]).stream(),
    });
    await expectOAuthError(streamed, 413, "invalid_request");
  });
});

describe("client_secret_basic and client_secret_post", () => {
  it("client_secret_basic gets a token", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    const { claims } = await tokenOf(await postForm(CC, { Authorization: basic(clientId, secret) }));
    expect(claims).toMatchObject({ sub: clientId, client_id: clientId });
  });

  it("client_secret_basic decodes form-urlencoded credentials (RFC 6749 §2.3.1)", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    const header = basic(clientId, secret, encodeAll);
    expect(atob(header.slice(6))).not.toContain(clientId);
    const { claims } = await tokenOf(await postForm(CC, { Authorization: header }));
    expect(claims.client_id).toBe(clientId);
  });

  it("client_secret_basic with a matching client_id parameter is fine, a different one is refused", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    await tokenOf(await postForm({ ...CC, client_id: clientId }, { Authorization: basic(clientId, secret) }));
    const body = await expectOAuthError(await postForm({ ...CC, client_id: "someone-else" }, { Authorization: basic(clientId, secret) }), 401, "invalid_client");
    expect(body.error_description).toMatch(/differs from the client_id of the HTTP Basic credentials/);
  });

  it("a 401 after Basic carries WWW-Authenticate: Basic", async () => {
    const { clientId } = await registerSecretClient("client_secret_basic");
    for (const header of [basic(clientId, "wrong-secret"), basic("no-such-client", "whatever")]) {
      const res = await postForm(CC, { Authorization: header });
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic realm="[^"]+"/);
      await expectOAuthError(res, 401, "invalid_client");
    }
  });

  it("refuses malformed Basic credentials as invalid_request", async () => {
    // The other malformed headers are pinned in test/oauth/client-auth/presented.test.ts.
    const body = await expectOAuthError(await postForm(CC, { Authorization: `Basic ${btoa("no-colon")}` }), 400, "invalid_request");
    expect(body.error_description).toMatch(/not valid HTTP Basic credentials/);
  });

  it("client_secret_post gets a token; a 401 there carries no Basic challenge", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const { claims } = await tokenOf(await postForm({ ...CC, client_id: clientId, client_secret: secret }));
    expect(claims.client_id).toBe(clientId);
    const refused = await postForm({ ...CC, client_id: clientId, client_secret: `${secret}x` });
    expect(refused.headers.get("WWW-Authenticate")).toBeNull();
    await expectOAuthError(refused, 401, "invalid_client");
  });

  it("refuses a wrong secret, naming the rule but never the secret", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const wrong = secret.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    const body = await expectOAuthError(await postForm({ ...CC, client_id: clientId, client_secret: wrong }), 401, "invalid_client");
    expect(body.error_description).toMatch(/wrong client secret/);
    expect(JSON.stringify(body)).not.toContain(secret);
    expect(JSON.stringify(body)).not.toContain(wrong);
  });

  it("refuses client_secret_post without client_id: no client is named (invalid_client)", async () => {
    await expectOAuthError(await postForm({ ...CC, client_secret: "s" }), 401, "invalid_client");
  });
});

describe("the registered method and nothing else", () => {
  const another = /registered for another token_endpoint_auth_method/;

  it("a client_secret_basic client may not use client_secret_post, and vice versa", async () => {
    const b = await registerSecretClient("client_secret_basic");
    const p = await registerSecretClient("client_secret_post");
    const viaPost = await postForm({ ...CC, client_id: b.clientId, client_secret: b.secret });
    expect((await expectOAuthError(viaPost, 401, "invalid_client")).error_description).toMatch(another);
    const viaBasic = await postForm(CC, { Authorization: basic(p.clientId, p.secret) });
    expect((await expectOAuthError(viaBasic, 401, "invalid_client")).error_description).toMatch(another);
  });

  it("a client_secret_jwt client may not send its secret directly", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_jwt");
    const viaBasic = await postForm(CC, { Authorization: basic(clientId, secret) });
    expect((await expectOAuthError(viaBasic, 401, "invalid_client")).error_description).toMatch(another);
    const viaPost = await postForm({ ...CC, client_id: clientId, client_secret: secret });
    expect((await expectOAuthError(viaPost, 401, "invalid_client")).error_description).toMatch(another);
  });

  it("a secret-based client may not present a client assertion", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: TOKEN_URL, exp: now + 60, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));
    const body = await expectOAuthError(await tokenWithAssertion(assertion), 401, "invalid_client");
    expect(body.error_description).toMatch(another);
  });
});

describe("unknown and disabled clients", () => {
  async function disable(clientId: string) {
    expect((await admin("PATCH", `/admin/clients/${clientId}`, { disabled: true })).status).toBe(200);
  }
  async function snapshot(res: Response) {
    return { status: res.status, body: await res.text(), challenge: res.headers.get("WWW-Authenticate") };
  }

  it("give byte-identical answers with client_secret_post, even with the right secret", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    await disable(clientId);
    const disabled = await snapshot(await postForm({ ...CC, client_id: clientId, client_secret: secret }));
    const unknown = await snapshot(await postForm({ ...CC, client_id: "never-registered", client_secret: secret }));
    expect(disabled.status).toBe(401);
    expect(JSON.parse(disabled.body).error).toBe("invalid_client");
    expect(disabled).toEqual(unknown);
  });

  it("give byte-identical answers with client_secret_basic, WWW-Authenticate included", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_basic");
    await disable(clientId);
    const disabled = await snapshot(await postForm(CC, { Authorization: basic(clientId, secret) }));
    const unknown = await snapshot(await postForm(CC, { Authorization: basic("never-registered", secret) }));
    expect(disabled.challenge).not.toBeNull();
    expect(disabled).toEqual(unknown);
  });

  it("give byte-identical answers with a valid client assertion", async () => {
    const client = await registerKeyClient();
    await disable(client.clientId);
    const disabled = await snapshot(await tokenWithAssertion(await keyAssertion(client)));
    const unknown = await snapshot(await tokenWithAssertion(await keyAssertion(client, { iss: "never-registered", sub: "never-registered" })));
    expect(disabled.status).toBe(401);
    expect(disabled).toEqual(unknown);
  });
});

describe("client ids that cannot exist", () => {
  it("a client_id too long for a KV key is an unknown client (401), not an outage (503)", async () => {
    const longId = "é".repeat(256); // 512 UTF-8 bytes: within the 256-character check, past KV's 512-byte key limit
    const client = await registerKeyClient();
    const viaAssertion = await tokenWithAssertion(await keyAssertion(client, { iss: longId, sub: longId }));
    expect((await expectOAuthError(viaAssertion, 401, "invalid_client")).error_description).toMatch(/unknown or disabled client/);
    await expectOAuthError(await postForm({ ...CC, client_id: longId, client_secret: "s" }), 401, "invalid_client");
    await expectOAuthError(await postForm(CC, { Authorization: basic(longId, "s") }), 401, "invalid_client");
    await expectOAuthError(await admin("GET", `/admin/clients/${encodeURIComponent("é".repeat(300))}`), 404, "not_found");
  });
});

describe("scope", () => {
  it("a subset: exactly the requested scopes", async () => {
    const client = await registerKeyClient("ES256", { scope: "read write admin:metrics" });
    const { body, claims } = await tokenOf(await tokenWithAssertion(await keyAssertion(client), { scope: "write" }));
    expect(body.scope).toBe("write");
    expect(claims.scope).toBe("write");
  });

  it("a scope the client is not registered for, or one no client has: invalid_scope", async () => {
    const client = await registerKeyClient("ES256", { scope: "read" });
    // Each refusal's edge is pinned in test/oauth/grants/client-credentials.test.ts.
    for (const scope of ["write", "no-client-has-this"]) {
      await expectOAuthError(await tokenWithAssertion(await keyAssertion(client), { scope }), 400, "invalid_scope");
    }
  });

  it("a client without scopes gets a token without scope", async () => {
    const client = await registerKeyClient("ES256", { scope: "" });
    const { body, claims } = await tokenOf(await tokenWithAssertion(await keyAssertion(client)));
    expect(body.scope).toBeUndefined();
    expect(claims.scope).toBeUndefined();
  });
});

describe("resource (RFC 8707)", () => {
  const API = "https://api.example/v1";

  it("an allowed resource becomes the token's aud; without one, aud is the issuer", async () => {
    const client = await registerKeyClient("ES256", { resources: [API, "urn:example:ledger"] });
    expect((await tokenOf(await tokenWithAssertion(await keyAssertion(client), { resource: API }))).claims.aud).toBe(API);
    expect((await tokenOf(await tokenWithAssertion(await keyAssertion(client), { resource: "urn:example:ledger" }))).claims.aud).toBe("urn:example:ledger");
    expect((await tokenOf(await tokenWithAssertion(await keyAssertion(client)))).claims.aud).toBe(ISSUER);
  });

  it("without resource, aud is DEFAULT_AUDIENCE when set", async () => {
    const client = await registerKeyClient();
    const form = formInit({ ...CC, client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const res = await callWorker(TOKEN_URL, form, { DEFAULT_AUDIENCE: "https://default-audience.example" });
    expect((await tokenOf(res)).claims.aud).toBe("https://default-audience.example");
  });

  // The other refusals (relative, with a fragment, case) are pinned in test/oauth/grants/client-credentials.test.ts.
  for (const [name, resource, rule] of [["not allowed for the client", "https://api.example/v2", /not one this client may use/]] as const) {
    it(`a resource ${name}: invalid_target`, async () => {
      const client = await registerKeyClient("ES256", { resources: [API] });
      const body = await expectOAuthError(await tokenWithAssertion(await keyAssertion(client), { resource }), 400, "invalid_target");
      expect(body.error_description).toMatch(rule);
    });
  }
});

describe("access token lifetime", () => {
  it("the client's access_token_ttl wins over ACCESS_TOKEN_TTL", async () => {
    const client = await registerKeyClient("ES256", { access_token_ttl: 120 });
    const { body, claims } = await tokenOf(await tokenWithAssertion(await keyAssertion(client)));
    expect(body.expires_in).toBe(120);
    expect(claims.exp - claims.iat).toBe(120);
  });

  it("ACCESS_TOKEN_TTL applies to clients without their own", async () => {
    const client = await registerKeyClient();
    const form = formInit({ ...CC, client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    const { body, claims } = await tokenOf(await callWorker(TOKEN_URL, form, { ACCESS_TOKEN_TTL: "900" }));
    expect(body.expires_in).toBe(900);
    expect(claims.exp - claims.iat).toBe(900);
  });
});

describe("Cache-Control: no-store", () => {
  it("is on every token response, errors included", async () => {
    const client = await registerKeyClient();
    const { clientId } = await registerSecretClient("client_secret_basic");
    const responses = await Promise.all([
      tokenWithAssertion(await keyAssertion(client)),
      tokenWithAssertion(await keyAssertion(client, { aud: "https://elsewhere.example" })),
      postForm({ grant_type: "password" }),
      postForm({ ...CC }),
      postForm(CC, { Authorization: basic(clientId, "wrong") }),
      tokenWithAssertion(await keyAssertion(client), { scope: "nope" }),
      postForm(`grant_type=client_credentials&p=${"x".repeat(20_000)}`),
      callWorker(TOKEN_URL, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 401, 400, 401, 401, 400, 413, 400]);
    for (const res of responses) expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("the assertion's jti is consumed only when the token is issued", () => {
  it("a request failing the scope or resource check leaves the assertion usable", async () => {
    const client = await registerKeyClient("ES256", { scope: "read", resources: ["https://api.example/v1"] });
    const assertion = await keyAssertion(client);
    await expectOAuthError(await tokenWithAssertion(assertion, { scope: "write" }), 400, "invalid_scope");
    await expectOAuthError(await tokenWithAssertion(assertion, { resource: "https://api.example/other" }), 400, "invalid_target");
    await tokenOf(await tokenWithAssertion(assertion, { scope: "read" }));
    const replay = await expectOAuthError(await tokenWithAssertion(assertion, { scope: "read" }), 401, "invalid_client");
    expect(replay.error_description).toMatch(/already been used/);
  });
});
