/**
 * Shared pieces of the property-based fuzz suite (test/fuzz/*.test.ts): the endpoints that
 * authenticate clients, the response invariants every hostile request must satisfy, a raw JWS
 * signer that signs any header/payload bytes (so claim and header rules are reached past the
 * signature check), and the fast-check settings that keep the suite seeded and bounded.
 */
import fc from "fast-check";
import { base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, expect, vi } from "vitest";
import { ISSUER, JWT_BEARER, nowSeconds, registerClient, uniqueId } from "./helpers.js";

/**
 * Every endpoint that authenticates clients like the token endpoint (SPEC §3), with the
 * endpoint's own parameters of a well-formed request. The fuzzers run against each entry.
 * When /oauth2/introspect and /oauth2/revoke land, add them here, one line each:
 *   { path: "/oauth2/introspect", params: { token: "not-a-token" } },
 *   { path: "/oauth2/revoke", params: { token: "not-a-token" } },
 */
export const CLIENT_AUTH_ENDPOINTS: readonly { path: string; params: Record<string, string> }[] = [
  { path: "/oauth2/token", params: { grant_type: "client_credentials" } },
  { path: "/auth/oauth/v2/token", params: { grant_type: "client_credentials" } },
  { path: "/oauth2/introspect", params: { token: "not-a-token" } },
  { path: "/oauth2/revoke", params: { token: "not-a-token" } },
  { path: "/auth/oauth/v2/token/revoke", params: { token: "not-a-token" } },
];

/** One fixed seed per property (fc.assert's `seed`), so every run explores the same inputs. */
export const FUZZ_SEED = 0x5eed_2026;

/** fast-check parameters: a fixed seed and a fixed number of runs (deterministic, bounded); no shrinking after a failure, so a counterexample is reported at once. */
export function fuzzRuns(numRuns: number, seedOffset = 0): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED + seedOffset, numRuns, endOnFailure: true };
}

/** Silence the Worker's structured log lines (they run in this isolate) while fuzzing. */
export function quietWorkerLogs(): void {
  const spies: { mockRestore(): void }[] = [];
  beforeAll(() => {
    spies.push(vi.spyOn(console, "log").mockImplementation(() => {}));
    spies.push(vi.spyOn(console, "error").mockImplementation(() => {}));
    spies.push(vi.spyOn(console, "warn").mockImplementation(() => {}));
  });
  afterAll(() => spies.splice(0).forEach((spy) => spy.mockRestore()));
}

/** RFC 6749 §5.2: `error` and `error_description` use only %x20-21 / %x23-5B / %x5D-7E. */
const RFC6749_ERROR_TEXT = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

export interface CheckedResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The invariants of every answer to a hostile request: never a 5xx; an error is RFC 6749 §5.2
 * JSON with `error` and `error_description` in the RFC's character set and `Cache-Control:
 * no-store`; a 401 to a request that tried HTTP Basic carries `WWW-Authenticate: Basic`.
 */
export async function checkResponse(res: Response, options: { triedBasic?: boolean } = {}): Promise<CheckedResponse> {
  const text = await res.text();
  expect(res.status, `5xx: ${text}`).toBeLessThan(500);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`response ${res.status} is not JSON: ${text.slice(0, 200)}`);
  }
  expect(typeof body === "object" && body !== null && !Array.isArray(body), `not a JSON object: ${text.slice(0, 200)}`).toBe(true);
  const record = body as Record<string, unknown>;
  if (res.status === 200 || res.status === 201 || res.status === 204) return { status: res.status, body: record };
  expect(res.headers.get("Content-Type") ?? "").toMatch(/^application\/json/);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(typeof record.error, text).toBe("string");
  expect(typeof record.error_description, text).toBe("string");
  expect(record.error as string, text).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(record.error_description as string, `error_description outside the RFC 6749 §5.2 character set: ${text}`).toMatch(RFC6749_ERROR_TEXT);
  if (res.status === 401 && options.triedBasic) expect(res.headers.get("WWW-Authenticate") ?? "").toMatch(/^Basic /);
  return { status: res.status, body: record };
}

/** Status and error code of the token-endpoint errors a hostile request may get (SPEC §2). */
export function expectClientAuthEndpointError(checked: CheckedResponse, allowed: readonly string[] = TOKEN_ERROR_CODES): void {
  expect(allowed, JSON.stringify(checked)).toContain(checked.body.error);
  const expectedStatus = checked.body.error === "invalid_client" ? 401 : checked.body.error === "not_found" ? 404 : [400, 413];
  if (Array.isArray(expectedStatus)) expect(expectedStatus, JSON.stringify(checked)).toContain(checked.status);
  else expect(checked.status, JSON.stringify(checked)).toBe(expectedStatus);
}

export const TOKEN_ERROR_CODES = ["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope", "invalid_target", "not_found"] as const;

/** A form body from name/value pairs, URL-encoded like a browser would. */
export function formBody(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

// ---------------------------------------------------------------------------------------------
// Raw JWS signing: any header and payload bytes, signed correctly, so the rules after the
// signature check are reached with hostile content (jose's SignJWT refuses most of it).

export type RawSigner = (signingInput: Uint8Array) => Promise<Uint8Array>;

export interface FuzzKeyClient {
  clientId: string;
  alg: "ES256" | "HS256";
  kid?: string;
  sign: RawSigner;
}

const encoder = new TextEncoder();

/** base64url of a string's UTF-8 bytes, or of raw bytes. */
export function b64u(value: string | Uint8Array): string {
  return base64url.encode(typeof value === "string" ? encoder.encode(value) : value);
}

/** A compact JWS over exactly these header and payload segments. */
export async function signSegments(sign: RawSigner, headerSegment: string, payloadSegment: string): Promise<string> {
  const signature = await sign(encoder.encode(`${headerSegment}.${payloadSegment}`));
  return `${headerSegment}.${payloadSegment}.${b64u(signature)}`;
}

/** Sign a header and claims given as JSON values (or raw JSON text). */
export function signJson(client: FuzzKeyClient, header: unknown, payload: unknown): Promise<string> {
  const h = typeof header === "string" ? header : JSON.stringify(header);
  const p = typeof payload === "string" ? payload : JSON.stringify(payload);
  return signSegments(client.sign, b64u(h), b64u(p));
}

/** ECDSA P-256 (ES256: IEEE P1363 r||s, as WebCrypto returns it). */
export async function es256Signer(): Promise<{ sign: RawSigner; publicJwk: JWK; privateKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const sign: RawSigner = async (data) => new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data));
  return { sign, publicJwk: await exportJWK(publicKey), privateKey };
}

/** HMAC-SHA-256 with the UTF-8 bytes of a client secret (RFC 7523 client_secret_jwt). */
export async function hs256Signer(secret: string): Promise<RawSigner> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return async (data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** The header of a valid assertion of `client`. */
export function validHeader(client: FuzzKeyClient): Record<string, unknown> {
  return client.kid === undefined ? { alg: client.alg, typ: "JWT" } : { alg: client.alg, typ: "JWT", kid: client.kid };
}

/** Claims of a valid assertion: aud is the issuer, accepted by every client-auth endpoint. */
export function validClaims(clientId: string): Record<string, unknown> {
  const now = nowSeconds();
  return { iss: clientId, sub: clientId, aud: ISSUER, iat: now, exp: now + 60, jti: crypto.randomUUID() };
}

/** A fresh valid assertion of `client`. */
export function validAssertion(client: FuzzKeyClient): Promise<string> {
  return signJson(client, validHeader(client), validClaims(client.clientId));
}

/** The form of a request to `endpoint` authenticated with `assertion`. */
export function assertionForm(endpoint: { params: Record<string, string> }, assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...endpoint.params, client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries shared by several fuzzers.

/** Any JSON value, bounded in depth and size. */
export const anyJson = fc.jsonValue({ maxDepth: 3, depthSize: "small" });

/** base64url text, including lengths that are not valid encodings (n mod 4 = 1). */
export const base64urlText = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), maxLength: 120 });

/** Printable ASCII (what a header value can carry). */
export const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });

/** Register one private_key_jwt (ES256) and one client_secret_jwt (HS256) client for a fuzz file. */
export async function registerFuzzClients(): Promise<{ es256: FuzzKeyClient; hs256: FuzzKeyClient; all: FuzzKeyClient[] }> {
  const es = await es256Signer();
  const kid = "fuzz-es256";
  const es256Id = uniqueId("fuzz-pkjwt");
  await registerClient({
    client_id: es256Id,
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [{ ...es.publicJwk, kid, alg: "ES256", use: "sig" }] },
    scope: "read write",
  });
  const secretInfo = await registerClient({ client_id: uniqueId("fuzz-csjwt"), token_endpoint_auth_method: "client_secret_jwt", scope: "read write" });
  const es256: FuzzKeyClient = { clientId: es256Id, alg: "ES256", kid, sign: es.sign };
  const hs256: FuzzKeyClient = { clientId: secretInfo.client_id, alg: "HS256", sign: await hs256Signer(secretInfo.client_secret) };
  return { es256, hs256, all: [es256, hs256] };
}
