/**
 * Fuzz: correctly signed client assertions with hostile content (SPEC §3 rules 2-10). The raw
 * signer signs any header and payload bytes, so each rule after the signature check is reached:
 * headers with a wrong alg, crit, typ, kid or enc, or that are not JSON objects; payloads that are
 * arrays, numbers, null or not JSON; claims of the wrong type (iss, sub, aud, exp, iat, nbf, jti);
 * keys offered in jwk/jku/x5u headers. None of them gets a token. Benign variation (unknown claims
 * and header members, every accepted typ and aud form) always does.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ISSUER, nowSeconds, postForm } from "../support/helpers.js";
import {
  anyJson,
  assertionForm,
  b64u,
  checkResponse,
  CLIENT_AUTH_ENDPOINTS,
  es256Signer,
  expectClientAuthEndpointError,
  fuzzRuns,
  quietWorkerLogs,
  registerFuzzClients,
  signJson,
  signSegments,
  validClaims,
  validHeader,
  type FuzzKeyClient,
} from "../support/fuzz.js";

quietWorkerLogs();

let clients: FuzzKeyClient[];
beforeAll(async () => {
  clients = (await registerFuzzClients()).all;
});

const client = () => fc.constantFrom(...clients);
const endpoint = () => fc.constantFrom(...CLIENT_AUTH_ENDPOINTS);

/** Send `assertion` and require an invalid_client failure, never a token. */
async function expectRejected(endpointEntry: (typeof CLIENT_AUTH_ENDPOINTS)[number], assertion: string, clientId: string | undefined, label: unknown) {
  const res = await postForm(assertionForm(endpointEntry, assertion, clientId ? { client_id: clientId } : {}), {}, endpointEntry.path);
  const checked = await checkResponse(res);
  expect(checked.status, `token issued for ${JSON.stringify(label)}`).not.toBe(200);
  expectClientAuthEndpointError(checked, ["invalid_client"]);
}

/** JSON values that are not objects. */
const nonObjectJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 20 }), fc.array(anyJson, { maxLength: 4 }));
/** JSON values that are not strings. */
const nonString = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.array(anyJson, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 3 }));
/** JSON values that are not numbers, including numbers spelled as strings. */
const nonNumber = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 12 }), fc.integer().map(String), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 2 }));

describe("fuzz: signed assertions with hostile content", () => {
  it("refuses payloads that are not a JSON object (array, number, null, string, not JSON, not UTF-8)", async () => {
    const payloadSegment = fc.oneof(
      nonObjectJson.map((value) => b64u(JSON.stringify(value))),
      fc.string({ maxLength: 40 }).map((text) => b64u(text)),
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => b64u(bytes)),
    );
    await fc.assert(
      fc.asyncProperty(client(), endpoint(), payloadSegment, async (c, e, payload) => {
        const assertion = await signSegments(c.sign, b64u(JSON.stringify(validHeader(c))), payload);
        await expectRejected(e, assertion, c.clientId, { payload });
      }),
      fuzzRuns(120, 10),
    );
  });

  it("refuses hostile headers: wrong alg, crit, typ, kid, enc, b64, or not a JSON object", async () => {
    const poison = fc.oneof(
      fc.record({ alg: fc.oneof(fc.constantFrom("none", "None", "NONE", "", "HS256", "HS512", "RS256", "PS256", "ES384", "ES512", "EdDSA", "Ed25519", "dir", "RSA-OAEP"), nonString) }),
      fc.record({ crit: anyJson }),
      fc.record({ crit: fc.constant(["b64"]), b64: fc.boolean() }),
      fc.record({ typ: fc.oneof(nonString, fc.constantFrom("at+jwt", "dpop+jwt", "JOSE", "secevent+jwt", "application/json", "", "JWT ")) }),
      fc.record({ enc: fc.constantFrom("A256GCM", "A128CBC-HS256", "") }),
    );
    const kidPoison = fc.oneof(fc.string({ maxLength: 20 }).filter((kid) => kid !== "fuzz-es256"), nonString);
    await fc.assert(
      fc.asyncProperty(client(), endpoint(), poison, fc.option(kidPoison), fc.boolean(), async (c, e, p, kid, sendClientId) => {
        const header: Record<string, unknown> = { ...validHeader(c), ...p };
        // A wrong kid matters only for a client with a registered kid (private_key_jwt).
        if (kid !== null && c.kid !== undefined) header.kid = kid;
        const assertion = await signJson(c, header, validClaims(c.clientId));
        await expectRejected(e, assertion, sendClientId ? c.clientId : undefined, header);
      }),
      fuzzRuns(150, 11),
    );
  });

  it("refuses headers that are not JSON objects", async () => {
    const headerText = fc.oneof(nonObjectJson.map((value) => JSON.stringify(value)), fc.string({ maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(client(), endpoint(), headerText, async (c, e, text) => {
        const assertion = await signSegments(c.sign, b64u(text), b64u(JSON.stringify(validClaims(c.clientId))));
        await expectRejected(e, assertion, c.clientId, { header: text });
      }),
      fuzzRuns(60, 12),
    );
  });

  it("never takes the verification key from jwk, jku or x5u headers", async () => {
    const attacker = await es256Signer();
    const target = clients.find((c) => c.alg === "ES256")!;
    const forged: FuzzKeyClient = { ...target, sign: attacker.sign };
    const offered = fc.record(
      {
        jwk: fc.constant({ ...attacker.publicJwk, kid: target.kid }),
        jku: fc.constantFrom("https://attacker.example/jwks.json", `${ISSUER}/.well-known/jwks.json`),
        x5u: fc.constant("https://attacker.example/cert.pem"),
        kid: fc.constantFrom(target.kid, "attacker"),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(endpoint(), offered, async (e, extra) => {
        const assertion = await signJson(forged, { ...validHeader(target), ...extra }, validClaims(target.clientId));
        await expectRejected(e, assertion, target.clientId, extra);
      }),
      fuzzRuns(30, 13),
    );
  });

  it("refuses claims of the wrong type or value (iss, sub, aud, exp, iat, nbf, jti)", async () => {
    const now = nowSeconds();
    const wrong: Record<string, fc.Arbitrary<unknown>> = {
      iss: fc.oneof(nonString, fc.string({ maxLength: 20 })),
      // Long non-ASCII ids too: the unverified sub names the client that is looked up.
      sub: fc.oneof(nonString, fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", minLength: 60, maxLength: 200 })),
      aud: fc.oneof(
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 2 }),
        fc.array(nonString, { maxLength: 3 }),
        fc.constantFrom([], [ISSUER, ISSUER], [ISSUER, "https://other.test"], [[ISSUER]], `${ISSUER}/`, ISSUER.toUpperCase(), "", "https://issuer.test:443", `${ISSUER}/oauth2/token/`),
      ),
      exp: fc.oneof(nonNumber, fc.constantFrom(now - 3600, now - 60, now + 3600, 0, -1, 1e308)),
      iat: fc.oneof(nonNumber, fc.constantFrom(now + 3600, now + 120)),
      nbf: fc.oneof(nonNumber, fc.constantFrom(now + 3600, now + 120)),
      jti: fc.oneof(nonString, fc.constant(""), fc.integer({ min: 257, max: 400 }).map((n) => "j".repeat(n))),
    };
    /** A deleted required claim is a wrong value too (iat and nbf are optional). */
    const DELETE = Symbol("delete");
    const corruption = fc.oneof(
      ...Object.entries(wrong).map(([name, value]) => fc.tuple(fc.constant(name), value as fc.Arbitrary<unknown>)),
      fc.tuple(fc.constantFrom("iss", "sub", "aud", "exp", "jti"), fc.constant<unknown>(DELETE)),
    );
    await fc.assert(
      fc.asyncProperty(client(), endpoint(), fc.array(corruption, { minLength: 1, maxLength: 3 }), fc.boolean(), async (c, e, corruptions, sendClientId) => {
        const claims = validClaims(c.clientId);
        for (const [name, value] of corruptions) {
          if (value === DELETE) delete claims[name];
          else claims[name] = value;
        }
        // A string that happens to equal the valid value is no corruption: keep the property exact.
        fc.pre(corruptions.every(([name, value]) => value === DELETE || claims[name] !== validClaims(c.clientId)[name]));
        fc.pre(!corruptions.some(([name, value]) => (name === "iss" || name === "sub") && value === c.clientId));
        const assertion = await signJson(c, validHeader(c), claims);
        await expectRejected(e, assertion, sendClientId ? c.clientId : undefined, claims);
      }),
      fuzzRuns(200, 14),
    );
  });

  it("accepts benign variation: unknown claims and header members, every accepted typ and aud form", async () => {
    const reservedClaims = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);
    const extraClaims = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !reservedClaims.has(k)), anyJson, { maxKeys: 4 });
    const extraHeader = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).map((k) => `x-${k}`), anyJson, { maxKeys: 3 });
    const typ = fc.constantFrom(undefined, "JWT", "client-authentication+jwt");
    await fc.assert(
      fc.asyncProperty(
        client(),
        endpoint(),
        extraClaims,
        extraHeader,
        typ,
        fc.constantFrom("issuer", "issuer-array", "endpoint"),
        fc.boolean(),
        async (c, e, claimsExtra, headerExtra, typValue, audForm, omitIat) => {
          const claims: Record<string, unknown> = { ...claimsExtra, ...validClaims(c.clientId) };
          claims.aud = audForm === "issuer" ? ISSUER : audForm === "issuer-array" ? [ISSUER] : `${ISSUER}${e.path}`;
          if (omitIat) delete claims.iat;
          const header: Record<string, unknown> = { ...headerExtra, ...validHeader(c) };
          if (typValue === undefined) delete header.typ;
          else header.typ = typValue;
          const res = await postForm(assertionForm(e, await signJson(c, header, claims)), {}, e.path);
          expect(res.status, `${await res.clone().text()} for ${JSON.stringify({ header, claims })}`).toBe(200);
        },
      ),
      fuzzRuns(30, 15),
    );
  });
});
