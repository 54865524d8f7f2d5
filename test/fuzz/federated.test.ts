/**
 * Fuzz: the federated path (SPEC §9). Correctly signed tokens of a trusted issuer with hostile
 * claims and headers, random assertions sent for a federated client, hostile explain bodies and
 * hostile trusted-issuer and credential documents. Never a 5xx; a token only for what matches the
 * credential (a changed sub, iss or pinned claim never gets one).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, callWorker, ISSUER, JWT_BEARER, nowSeconds, postForm, registerClient, uniqueId } from "../support/helpers.js";
import { anyJson, base64urlText, checkResponse, es256Signer, fuzzRuns, quietWorkerLogs, signSegments, b64u, type RawSigner } from "../support/fuzz.js";

quietWorkerLogs();

const ISS = "https://ci.fuzz.example";
const KID = "fuzz-issuer";
const SUB = "repo:acme/api:ref:refs/heads/main";
let sign: RawSigner;
let clientId: string;

beforeAll(async () => {
  const signer = await es256Signer();
  sign = signer.sign;
  const res = await adminJson("POST", "/admin/trusted-issuers", JSON.stringify({ issuer: ISS, jwks: { keys: [{ ...signer.publicJwk, kid: KID, alg: "ES256", use: "sig" }] }, allowed_algs: ["ES256"], shared: true, immutable_claims: ["repository_id"] }));
  expect(res.status).toBe(201);
  clientId = uniqueId("fuzz-fed");
  await registerClient({ client_id: clientId, federated_credentials: [{ name: "main", issuer: ISS, subject: SUB, claims: { repository_id: "123" } }] });
});

function adminJson(method: string, path: string, body: string): Promise<Response> {
  return callWorker(path, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body });
}

const validClaims = () => {
  const now = nowSeconds();
  return { iss: ISS, sub: SUB, aud: ISSUER, repository_id: "123", iat: now, nbf: now, exp: now + 120, jti: crypto.randomUUID() } as Record<string, unknown>;
};
const signed = (header: unknown, claims: unknown) => signSegments(sign, b64u(JSON.stringify(header)), b64u(JSON.stringify(claims)));
const exchange = (assertion: string, type = JWT_BEARER) =>
  postForm({ grant_type: "client_credentials", client_id: clientId, client_assertion_type: type, client_assertion: assertion }, {}, "/oauth2/token");

describe("fuzz: federated assertions", () => {
  it("a valid token works (the fuzzers below start from it)", async () => {
    expect((await exchange(await signed({ alg: "ES256", kid: KID, typ: "JWT" }, validClaims()))).status).toBe(200);
  });

  it("hostile claim values: never a 5xx; a changed iss, sub or pinned claim never gets a token", async () => {
    const claim = fc.constantFrom("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "repository_id");
    await fc.assert(
      fc.asyncProperty(claim, anyJson, fc.constantFrom(JWT_BEARER, "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe"), async (name, value, type) => {
        const claims = validClaims();
        const original = claims[name];
        claims[name] = value;
        const checked = await checkResponse(await exchange(await signed({ alg: "ES256", kid: KID }, claims), type));
        if (checked.status !== 200) expect(checked.body.error, JSON.stringify(checked)).toBe("invalid_client");
        const identity = name === "iss" || name === "sub" || (name === "repository_id" && String(value) !== "123");
        if (identity && JSON.stringify(value) !== JSON.stringify(original)) expect(checked.status, JSON.stringify({ name, value })).not.toBe(200);
        if (type !== JWT_BEARER) expect(checked.status).not.toBe(200);
      }),
      fuzzRuns(150, 40),
    );
  });

  it("hostile headers and random segments for a federated client: never a 5xx, never a token", async () => {
    const header = fc.oneof(
      fc.record({ alg: fc.oneof(fc.constantFrom("none", "HS256", "RS256", "ES384", "EdDSA"), anyJson), kid: fc.oneof(fc.constant(KID), anyJson) }),
      fc.record({ alg: fc.constant("ES256"), kid: fc.constant(KID), crit: anyJson }),
      fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const checked = await checkResponse(await exchange(await signed(h, validClaims())));
        if (checked.status === 200) expect(h).toMatchObject({ alg: "ES256", kid: KID });
        else expect(checked.body.error).toBe("invalid_client");
      }),
      fuzzRuns(80, 41),
    );
    await fc.assert(
      fc.asyncProperty(base64urlText, base64urlText, base64urlText, async (a, b, c) => {
        const checked = await checkResponse(await exchange(`${a}.${b}.${c}`));
        expect(checked.status).not.toBe(200);
      }),
      fuzzRuns(60, 42),
    );
  });
});

describe("fuzz: federation admin", () => {
  it("explain with hostile bodies: never a 5xx, never consumes", async () => {
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify({ assertion: v })),
      anyJson.map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }),
      base64urlText.map((v) => JSON.stringify({ assertion: `${v}.${v}.${v}` })),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const checked = await checkResponse(await adminJson("POST", `/admin/clients/${clientId}/federation/explain`, text));
        expect([200, 400]).toContain(checked.status);
      }),
      fuzzRuns(80, 43),
    );
  });

  it("hostile trusted-issuer documents and credentials: never a 5xx, and what is accepted is safe", async () => {
    const issuerDoc = fc.record(
      {
        issuer: fc.oneof(fc.constantFrom("https://a.example", "http://127.0.0.1:1", "spiffe://td", "https://token.actions.githubusercontent.com", "", "x"), anyJson),
        preset: fc.oneof(fc.constantFrom("github-actions", "gitlab", "kubernetes", "spiffe"), anyJson),
        discovery: fc.oneof(fc.boolean(), anyJson),
        jwks_uri: fc.oneof(fc.constantFrom("https://a.example/jwks", "http://a.example/jwks"), anyJson),
        shared: fc.oneof(fc.boolean(), anyJson),
        jti_policy: fc.oneof(fc.constantFrom("single_use", "reuse"), anyJson),
        max_token_lifetime: fc.oneof(fc.integer(), anyJson),
        allowed_algs: fc.oneof(fc.constant(["RS256"]), anyJson),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(issuerDoc, async (doc) => {
        const checked = await checkResponse(await adminJson("POST", "/admin/trusted-issuers", JSON.stringify(doc)));
        expect([201, 400, 409], JSON.stringify(checked)).toContain(checked.status);
        if (checked.status === 201 && checked.body.shared === false) expect(checked.body.issuer).not.toBe("https://token.actions.githubusercontent.com");
        if (checked.status === 201) await adminJson("DELETE", `/admin/trusted-issuers/${encodeURIComponent(String(checked.body.issuer))}`, "");
      }),
      fuzzRuns(120, 44),
    );
    const credential = fc.record(
      { name: fc.oneof(fc.constant("c"), anyJson), issuer: fc.oneof(fc.constant(ISS), anyJson), subject: fc.oneof(fc.constantFrom(SUB, "*"), anyJson), subject_pattern: fc.oneof(fc.constantFrom("*:*", "repo:*"), anyJson), audience: anyJson, claims: fc.oneof(fc.constant({ repository_id: "1" }), anyJson) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(credential, async (c) => {
        const checked = await checkResponse(await adminJson("POST", `/admin/clients/${clientId}/federated-credentials`, JSON.stringify(c)));
        expect([201, 400, 409], JSON.stringify(checked)).toContain(checked.status);
        if (checked.status === 201) {
          // Accepted only when pinned on the shared issuer's immutable claim.
          expect(c.claims).toHaveProperty("repository_id");
          await callWorker(`/admin/clients/${clientId}/federated-credentials/${encodeURIComponent(String(c.name))}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
        }
      }),
      fuzzRuns(120, 45),
    );
  });
});
