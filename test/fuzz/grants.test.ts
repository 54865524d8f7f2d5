/**
 * Fuzz: the two SPEC §13 grants. The JWT bearer grant with correctly signed workload tokens
 * carrying hostile claims and headers, and random forms; token exchange with subject tokens
 * correctly signed by this server's key carrying hostile claims, and random forms. Never a 5xx;
 * no token without a valid assertion or subject token (a changed iss, sub, pinned claim or aud of
 * the assertion, or a changed aud, exp, iss or typ of the subject token, never gets one).
 */
import fc from "fast-check";
import { importJWK, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { JWT_BEARER_GRANT as JWT_BEARER_GRANT_TYPE } from "../../src/core/protocol.js";
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT as TOKEN_EXCHANGE_GRANT_TYPE } from "../../src/core/protocol.js";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import { admin, ISSUER, nowSeconds, postForm, registerClient, registerSecretClient, TOKEN_URL, uniqueId } from "../helpers.js";
import { anyJson, b64u, base64urlText, checkResponse, es256Signer, fuzzRuns, quietWorkerLogs, signSegments, type RawSigner } from "./fuzz-support.js";

quietWorkerLogs();

const ISS = `https://${uniqueId("grant-fuzz")}.example`;
const KID = "fuzz-wl";
const SUB = "system:serviceaccount:ci:agent";
const MCP = "https://mcp.fuzz.example/mcp";
const UPSTREAM = "https://upstream.fuzz.example/";
/** What a refused grant request may answer (SPEC §13, RFC 6749 §5.2, RFC 8693 §2.2.2). */
const GRANT_ERRORS = ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "invalid_scope", "invalid_target", "invalid_dpop_proof"];

let workload: RawSigner;
let server: RawSigner;
let mcp: { clientId: string; secret: string };

beforeAll(async () => {
  const signer = await es256Signer();
  workload = signer.sign;
  const trusted = await admin("POST", "/admin/trusted-issuers", { issuer: ISS, jwks: { keys: [{ ...signer.publicJwk, kid: KID, alg: "ES256", use: "sig" }] }, allowed_algs: ["ES256"], shared: false });
  expect(trusted.status).toBe(201);
  await registerClient({ client_id: uniqueId("fuzz-wl"), scope: "read", federated_credentials: [{ name: "agent", issuer: ISS, subject: SUB, claims: { cluster: "c1" }, grants: ["jwt_bearer"] }] });
  // This server's own signing key (test fixture): subject tokens that verify, with hostile claims.
  const jwk = JSON.parse(testSecrets.SIGNING_KEYS).keys[0] as JWK;
  const key = (await importJWK(jwk, "ES256")) as CryptoKey;
  server = async (data) => new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, data));
  mcp = await registerSecretClient("client_secret_basic", { scope: "read", token_exchange: { subject_audiences: [MCP], resources: [UPSTREAM] } });
});

const signed = (sign: RawSigner, header: unknown, claims: unknown) => signSegments(sign, b64u(JSON.stringify(header)), b64u(JSON.stringify(claims)));

const assertionClaims = (): Record<string, unknown> => {
  const now = nowSeconds();
  return { iss: ISS, sub: SUB, aud: TOKEN_URL, cluster: "c1", iat: now, nbf: now, exp: now + 120, jti: crypto.randomUUID() };
};
const grant = (assertion: string, extra: Record<string, string> = {}) => postForm({ grant_type: JWT_BEARER_GRANT_TYPE, assertion, ...extra });

const subjectClaims = (): Record<string, unknown> => {
  const now = nowSeconds();
  return { iss: ISSUER, sub: "caller", client_id: "caller", aud: MCP, scope: "read", iat: now, exp: now + 300, jti: crypto.randomUUID() };
};
const SUBJECT_HEADER = { alg: "ES256", typ: "at+jwt", kid: JSON.parse(testSecrets.SIGNING_KEYS).keys[0].kid };
const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
  postForm(
    { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM, ...extra },
    { Authorization: `Basic ${btoa(`${mcp.clientId}:${mcp.secret}`)}` },
  );

/** A refusal is one of the grants' errors; a token only when allowed. */
function expectRefusedOr200(checked: { status: number; body: Record<string, unknown> }, tokenAllowed: boolean, context: unknown): void {
  if (checked.status === 200) expect(tokenAllowed, JSON.stringify(context)).toBe(true);
  else expect(GRANT_ERRORS, JSON.stringify({ checked, context })).toContain(checked.body.error);
}

describe("fuzz: the JWT bearer grant", () => {
  it("a valid assertion works (the fuzzers below start from it)", async () => {
    expect((await grant(await signed(workload, { alg: "ES256", kid: KID }, assertionClaims()))).status).toBe(200);
  });

  it("hostile claim values: never a 5xx; a changed iss, sub, pinned claim or aud never gets a token", async () => {
    const claim = fc.constantFrom("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "cluster");
    await fc.assert(
      fc.asyncProperty(claim, anyJson, async (name, value) => {
        const claims = assertionClaims();
        const original = claims[name];
        claims[name] = value;
        const changed = JSON.stringify(value) !== JSON.stringify(original);
        const accepted = ["aud"].includes(name) ? [TOKEN_URL, `${TOKEN_URL}/`, ISSUER, `${ISSUER}/`].includes(value as string) : !["iss", "sub", "cluster"].includes(name) || !changed;
        const checked = await checkResponse(await grant(await signed(workload, { alg: "ES256", kid: KID }, claims)));
        expectRefusedOr200(checked, accepted || (name === "cluster" && String(value) === "c1") || !["iss", "sub", "cluster", "aud"].includes(name), { name, value });
      }),
      fuzzRuns(150, 60),
    );
  });

  it("hostile headers, random segments and random forms: never a 5xx, never a token", async () => {
    const header = fc.oneof(
      fc.record({ alg: fc.oneof(fc.constantFrom("none", "HS256", "RS256", "ES384"), anyJson), kid: fc.oneof(fc.constant(KID), anyJson) }),
      fc.record({ alg: fc.constant("ES256"), kid: fc.constant(KID), crit: anyJson }),
      fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const checked = await checkResponse(await grant(await signed(workload, h, assertionClaims())));
        expectRefusedOr200(checked, (h as Record<string, unknown>).alg === "ES256" && (h as Record<string, unknown>).kid === KID && (h as Record<string, unknown>).crit === undefined, h);
      }),
      fuzzRuns(80, 61),
    );
    const form = fc.record(
      { assertion: fc.oneof(base64urlText.map((v) => `${v}.${v}.${v}`), fc.string({ maxLength: 40 })), scope: fc.string({ maxLength: 20 }), resource: fc.string({ maxLength: 30 }), client_id: fc.string({ maxLength: 20 }), client_assertion_type: fc.string({ maxLength: 20 }) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(form, async (params) => {
        const checked = await checkResponse(await postForm({ grant_type: JWT_BEARER_GRANT_TYPE, ...params }));
        expectRefusedOr200(checked, false, params);
      }),
      fuzzRuns(80, 62),
    );
  });
});

describe("fuzz: token exchange", () => {
  it("a valid subject token works (the fuzzers below start from it)", async () => {
    expect((await exchange(await signed(server, SUBJECT_HEADER, subjectClaims()))).status).toBe(200);
  });

  it("subject tokens signed by this server with hostile claims: never a 5xx; a changed aud, iss, exp, typ never gets a token", async () => {
    const claim = fc.constantFrom("iss", "sub", "client_id", "aud", "exp", "iat", "jti", "scope", "act", "exchanged_from", "cnf");
    await fc.assert(
      fc.asyncProperty(claim, anyJson, fc.boolean(), async (name, value, typed) => {
        const claims = subjectClaims();
        const original = claims[name];
        claims[name] = value;
        const changed = JSON.stringify(value) !== JSON.stringify(original);
        // A later exp this server signed is still a live token; anything else changed here is not one to exchange.
        const stillValid = (name === "aud" && Array.isArray(value) && value.includes(MCP)) || (name === "exp" && typeof value === "number" && value > nowSeconds() + 1);
        const identity = ["iss", "aud", "exp"].includes(name) && changed && !stillValid;
        const checked = await checkResponse(await exchange(await signed(server, typed ? SUBJECT_HEADER : { ...SUBJECT_HEADER, typ: "JWT" }, claims)));
        expectRefusedOr200(checked, typed && !identity, { name, value, typed });
      }),
      fuzzRuns(150, 63),
    );
  });

  it("random forms and foreign subject tokens: never a 5xx, never a token", async () => {
    const form = fc.record(
      {
        subject_token: fc.oneof(base64urlText.map((v) => `${v}.${v}.${v}`), fc.string({ maxLength: 40 })),
        subject_token_type: fc.oneof(fc.constantFrom(ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token"), fc.string({ maxLength: 10 })),
        requested_token_type: fc.string({ maxLength: 20 }),
        resource: fc.oneof(fc.constant(UPSTREAM), fc.string({ maxLength: 30 })),
        audience: fc.string({ maxLength: 30 }),
        scope: fc.string({ maxLength: 20 }),
        actor_token: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(form, async (params) => {
        const checked = await checkResponse(await postForm({ grant_type: TOKEN_EXCHANGE_GRANT_TYPE, ...params }, { Authorization: `Basic ${btoa(`${mcp.clientId}:${mcp.secret}`)}` }), { triedBasic: true });
        expectRefusedOr200(checked, false, params);
      }),
      fuzzRuns(80, 64),
    );
    // A token the workload's issuer signed is no subject token, however its claims read.
    const foreign = await signed(workload, SUBJECT_HEADER, subjectClaims());
    expectRefusedOr200(await checkResponse(await exchange(foreign)), false, "foreign");
  });
});
