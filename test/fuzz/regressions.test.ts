/**
 * Named regression tests for counterexamples the fuzz suite found (test/fuzz/*.test.ts). Each one
 * failed before its fix in src/ and drives the whole Worker through callWorker, like a client would.
 */
import { describe, expect, it } from "vitest";
import {
  admin,
  expectOAuthError,
  keyAssertion,
  postForm,
  registerKeyClient,
  registerSecretClient,
  tokenWithAssertion,
} from "../support/helpers.js";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same signature bytes, spelled differently: a non-zero unused bit in the last character. */
function withUnusedBitSet(assertion: string): string {
  const [header, payload, signature] = assertion.split(".") as [string, string, string];
  const last = B64URL.indexOf(signature.at(-1)!);
  return `${header}.${payload}.${signature.slice(0, -1)}${B64URL[last ^ 1]}`;
}

describe("regressions found by fuzzing", () => {
  // assertion-mutations.test.ts, mutation {"kind":"trailing-bits","index":2}: an ES256 signature
  // is 86 characters, so its last one carries 4 unused bits; HS256 (43 characters) 2. jose decodes
  // leniently, so the re-spelled assertion verified and got a token.
  it("refuses a client assertion whose signature segment is not canonical base64url (unused bits set)", async () => {
    const client = await registerKeyClient("ES256");
    const original = await keyAssertion(client);
    const respelled = withUnusedBitSet(original);
    expect(respelled).not.toBe(original);
    const body = await expectOAuthError(await tokenWithAssertion(respelled), 401, "invalid_client");
    expect(body.error_description).toMatch(/not a compact JWS/);
    // The refusal happened before the jti was consumed: the original still works once.
    expect((await tokenWithAssertion(original)).status).toBe(200);
  });

  it("refuses padding and whitespace inside a client assertion's signature", async () => {
    const client = await registerKeyClient("ES256");
    for (const respell of [(s: string) => `${s}==`, (s: string) => `${s.slice(0, 10)} ${s.slice(10)}`, (s: string) => `${s}\n`]) {
      const original = await keyAssertion(client);
      await expectOAuthError(await tokenWithAssertion(respell(original)), 401, "invalid_client");
      expect((await tokenWithAssertion(original)).status).toBe(200);
    }
  });

  // token-form.test.ts: `parameter "scope" appears more than once` — RFC 6749 §5.2 forbids '"'
  // (and '\' and non-ASCII) in error_description.
  it("keeps error_description inside the RFC 6749 §5.2 character set for a duplicated parameter", async () => {
    const body = await expectOAuthError(await postForm("grant_type=client_credentials&scope=a&scope=b"), 400, "invalid_request");
    expect(body.error_description).toBe("parameter 'scope' appears more than once");
    const odd = await expectOAuthError(await postForm('grant_type=client_credentials&%22%5C%C3%A9=1&%22%5C%C3%A9=2'), 400, "invalid_request");
    expect(odd.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    // "RFC 6749 §3.3" in the malformed-scope text was non-ASCII too.
    const client = await registerSecretClient("client_secret_post");
    const scope = await expectOAuthError(await postForm({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.secret, scope: 'a"b' }), 400, "invalid_scope");
    expect(scope.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  });

  // token-form.test.ts: a Basic client_id of 250 non-ASCII characters made a KV key over 512
  // bytes; KV threw, and the registry reported an outage (503) instead of an unknown client.
  it("treats a client_id too long for a KV key as an unknown client, not an outage", async () => {
    const longId = "ࠀ".repeat(250); // 3 UTF-8 bytes each: 750 bytes
    const basic = await postForm({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa(`${encodeURIComponent(longId)}:secret`)}` });
    expect(basic.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    const basicBody = await expectOAuthError(basic, 401, "invalid_client");
    const post = await expectOAuthError(await postForm({ grant_type: "client_credentials", client_id: longId, client_secret: "secret" }), 401, "invalid_client");
    // Identical to any other unknown client (SPEC §3: ids cannot be probed).
    const { clientId } = await registerSecretClient("client_secret_post");
    const unknown = await expectOAuthError(await postForm({ grant_type: "client_credentials", client_id: `${clientId}-nope`, client_secret: "secret" }), 401, "invalid_client");
    expect(basicBody).toEqual(unknown);
    expect(post).toEqual(unknown);
    expect((await admin("GET", `/admin/clients/${encodeURIComponent(longId)}`)).status).toBe(404);
  });
});
