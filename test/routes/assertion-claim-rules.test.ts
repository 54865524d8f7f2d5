/**
 * SPEC §3 rules 7-10 (aud, exp/iat/nbf, typ, jti) through the whole Worker: how each rule family
 * is wired to the configuration, the endpoint called and the replay guard. The edges of each rule
 * are pinned in test/oauth/client-auth/assertion-claims.test.ts (with an injected clock); typ,
 * which no unit test pins, keeps its cases here. Times are crafted relative to now with margins far
 * beyond the request's own duration (clock skew 15 s, ASSERTION_MAX_LIFETIME 300 s); nothing sleeps.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CLIENT_AUTH_JWT_TYP } from "../../src/client/assertion.js";
import { MAX_JTI_LENGTH } from "../../src/core/protocol.js";
import {
  callWorker,
  expectOAuthError,
  formInit,
  ISSUER,
  JWT_BEARER,
  keyAssertion,
  nowSeconds,
  OTK_TOKEN_URL,
  registerKeyClient,
  TOKEN_URL,
  tokenWithAssertion,
  type KeyClient,
} from "../helpers.js";

const STRICT_TYP = CLIENT_AUTH_JWT_TYP;

async function expectRule(res: Response, rule: RegExp) {
  const body = await expectOAuthError(res, 401, "invalid_client");
  expect(body.error_description).toMatch(rule);
}

let pk: KeyClient;
let strict: KeyClient;

beforeAll(async () => {
  pk = await registerKeyClient("ES256");
  strict = await registerKeyClient("ES256", { audience_mode: "strict" });
});

describe("rule 7: aud", () => {
  it("refuses another server's token endpoint", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { aud: "https://other.test/oauth2/token" })), /aud is not this server's issuer or token endpoint URL/);
  });

  it("refuses the OTK path's URL when /oauth2/token was called (only the path that was called)", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { aud: OTK_TOKEN_URL })), /aud is not this server's issuer/);
  });

  it("refuses a two-element array even when both values are accepted", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { aud: [TOKEN_URL, ISSUER] })), /exactly one accepted value and nothing else/);
  });

  it("per-client strict mode refuses the token endpoint URL and accepts the issuer", async () => {
    const refused = await keyAssertion(strict, { aud: TOKEN_URL }, { typ: STRICT_TYP });
    await expectRule(await tokenWithAssertion(refused), /aud is not this server's issuer/);
    expect((await tokenWithAssertion(await keyAssertion(strict, { aud: ISSUER }, { typ: STRICT_TYP }))).status).toBe(200);
    expect((await tokenWithAssertion(await keyAssertion(strict, { aud: [ISSUER] }, { typ: STRICT_TYP }))).status).toBe(200);
  });

  it("server-wide strict mode (AUDIENCE_MODE=strict) refuses the token endpoint URL, a compat client overrides it", async () => {
    const strictServer = (assertion: string) =>
      callWorker(TOKEN_URL, formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion }), { AUDIENCE_MODE: "strict" });
    await expectRule(await strictServer(await keyAssertion(pk, { aud: TOKEN_URL }, { typ: STRICT_TYP })), /aud is not this server's issuer/);
    expect((await strictServer(await keyAssertion(pk, { aud: ISSUER }, { typ: STRICT_TYP }))).status).toBe(200);

    const compat = await registerKeyClient("ES256", { audience_mode: "compat" });
    expect((await strictServer(await keyAssertion(compat, { aud: TOKEN_URL }))).status).toBe(200);
  });
});

describe("rule 8: exp, iat, nbf", () => {
  it("refuses an exp in the past beyond the clock skew", async () => {
    const now = nowSeconds();
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { iat: now - 120, exp: now - 60 })), /has expired/);
  });

  it("accepts an exp just past within the clock skew", async () => {
    const now = nowSeconds();
    expect((await tokenWithAssertion(await keyAssertion(pk, { iat: now - 60, exp: now - 5 }))).status).toBe(200);
  });

  it("refuses exp - iat longer than ASSERTION_MAX_LIFETIME", async () => {
    const now = nowSeconds();
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { iat: now - 200, exp: now + 200 })), /lifetime \(exp - iat\) exceeds/);
  });
});

describe("rule 9: typ", () => {
  it("compat mode refuses a typ other than absent, JWT or client-authentication+jwt", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, {}, { typ: "at+jwt" })), /typ header is not accepted/);
  });

  it("strict mode refuses typ JWT", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(strict, { aud: ISSUER }, { typ: "JWT" })), /typ header is not accepted .*strict: client-authentication\+jwt/);
  });

  it("strict mode refuses a missing typ", async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(strict, { aud: ISSUER })), /typ header is not accepted/);
  });
});

describe("rule 10: jti", () => {
  it(`refuses a jti longer than ${MAX_JTI_LENGTH} characters and records one of exactly ${MAX_JTI_LENGTH}`, async () => {
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { jti: "j".repeat(MAX_JTI_LENGTH + 1) })), /jti is longer than 256 characters/);
    expect((await tokenWithAssertion(await keyAssertion(pk, { jti: `${crypto.randomUUID()}`.padEnd(MAX_JTI_LENGTH, "j") }))).status).toBe(200);
  });

  it("refuses a replayed jti, also in a new assertion and on the other token path", async () => {
    const jti = crypto.randomUUID();
    expect((await tokenWithAssertion(await keyAssertion(pk, { jti }))).status).toBe(200);
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { jti })), /jti has already been used/);
    await expectRule(await tokenWithAssertion(await keyAssertion(pk, { jti, aud: OTK_TOKEN_URL }), {}, OTK_TOKEN_URL), /jti has already been used/);
  });
});
