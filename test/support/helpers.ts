/**
 * Shared test helpers and the one harness for calling the Worker under test: `callWorker` runs
 * the Worker's fetch handler with the real KV and Durable Object bindings (optionally changed),
 * and every other helper that sends a request (`admin`, `postForm`, `tokenWithAssertion`, the
 * lifecycle, fault, fuzz, resource and interop helpers) goes through it. Clients are registered
 * through the admin API and assertions signed with jose like a client would.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import worker from "../../src/index.js";
import { JWT_BEARER_ASSERTION_TYPE } from "../../src/client/assertion.js";
import { OTK_TOKEN_PATH, TOKEN_PATH } from "../../src/routes/token.js";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };

export const ISSUER = "https://issuer.test";
export const TOKEN_URL = `${ISSUER}${TOKEN_PATH}`;
export const OTK_TOKEN_URL = `${ISSUER}${OTK_TOKEN_PATH}`;
export const ADMIN_TOKEN = testSecrets.ADMIN_TOKEN;
export const JWT_BEARER = JWT_BEARER_ASSERTION_TYPE;

/** Seconds since the epoch, as the server's clock reads it. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Bindings to replace (any value, faulty on purpose); `undefined` removes the binding. */
export type EnvOverrides = Partial<Record<keyof Env, unknown>> & Record<string, unknown>;

/**
 * One request to the Worker under test: its fetch handler called in this isolate with the test
 * bindings (real KV and Durable Objects), waiting for its `waitUntil` work. `target` is a path, a
 * full URL or a Request. Without `overrides` every call shares the test `env` (like one isolate);
 * with them (a value replaces a binding, `undefined` removes it) each call gets a fresh env
 * object, so the per-isolate caches keyed by env start fresh, like a new isolate's.
 */
export async function callWorker(target: string | URL | Request, init: RequestInit = {}, overrides?: EnvOverrides): Promise<Response> {
  const request = target instanceof Request ? new Request(target, init) : new Request(urlOf(target), init);
  let bindings: Record<string, unknown> = env as unknown as Record<string, unknown>;
  if (overrides !== undefined) {
    bindings = { ...bindings };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete bindings[name];
      else bindings[name] = value;
    }
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, bindings as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const urlOf = (target: string | URL) => (typeof target !== "string" ? target.href : target.startsWith("http") ? target : `${ISSUER}${target}`);

/** A urlencoded POST for callWorker (`params` may be an already encoded body). */
export function formInit(params: Record<string, string> | string, headers: Record<string, string> = {}): RequestInit {
  const body = typeof params === "string" ? params : new URLSearchParams(params).toString();
  return { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers }, body };
}

/** An admin API call with the right bearer token and JSON body. */
export function admin(method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<Response> {
  return callWorker(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

/** Register a client; fails the test on anything but 201. */
export async function registerClient(metadata: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await admin("POST", "/admin/clients", metadata);
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface KeyClient {
  clientId: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
  alg: string;
}

let counter = 0;
/** A fresh unique client id for one test. */
export const uniqueId = (prefix = "client") => `${prefix}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;

/** Register a private_key_jwt client with a fresh key pair of `alg`. */
export async function registerKeyClient(alg = "ES256", extra: Record<string, unknown> = {}): Promise<KeyClient> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const kid = `k-${crypto.randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const clientId = uniqueId("pkjwt");
  await registerClient({
    client_id: clientId,
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [publicJwk] },
    scope: "read write",
    ...extra,
  });
  return { clientId, privateKey, publicJwk, kid, alg };
}

/** Register a client_secret_* client; returns its id and the secret shown once. */
export async function registerSecretClient(
  method: "client_secret_jwt" | "client_secret_basic" | "client_secret_post",
  extra: Record<string, unknown> = {},
): Promise<{ clientId: string; secret: string }> {
  const info = await registerClient({ client_id: uniqueId(method), token_endpoint_auth_method: method, scope: "read write", ...extra });
  return { clientId: info.client_id, secret: info.client_secret };
}

/** Claims of a valid assertion for `clientId`, with `overrides` applied (undefined deletes). */
export function assertionClaims(clientId: string, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { iss: clientId, sub: clientId, aud: TOKEN_URL, iat: now, exp: now + 60, jti: crypto.randomUUID() };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete claims[k];
    else claims[k] = v;
  }
  return claims;
}

/** Sign an assertion; `header` overrides the protected header (alg defaults to the key's). */
export async function signAssertion(
  key: CryptoKey | Uint8Array,
  claims: JWTPayload,
  header: Record<string, unknown>,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

/** A valid assertion for a KeyClient, with claim and header overrides. */
export function keyAssertion(client: KeyClient, claimOverrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return signAssertion(client.privateKey, assertionClaims(client.clientId, claimOverrides), { alg: client.alg, kid: client.kid, ...header });
}

/** POST a form to the token endpoint (or `url`), with the bindings changed by `overrides` if given. */
export function postForm(params: Record<string, string> | string, headers: Record<string, string> = {}, url = TOKEN_URL, overrides?: EnvOverrides): Promise<Response> {
  return callWorker(url, formInit(params, headers), overrides);
}

/** A client_credentials request authenticated with `assertion`. */
export function tokenWithAssertion(assertion: string, extra: Record<string, string> = {}, url = TOKEN_URL): Promise<Response> {
  return postForm({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra }, {}, url);
}

/** Assert an RFC 6749 error response: status, error code, no-store; returns the body. */
export async function expectOAuthError(res: Response, status: number, error: string): Promise<{ error: string; error_description: string }> {
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected JSON error ${status} ${error}, got ${res.status}: ${text}`);
  }
  if (res.status !== status || body.error !== error) {
    throw new Error(`expected ${status} ${error}, got ${res.status} ${JSON.stringify(body)}`);
  }
  if (res.headers.get("Cache-Control") !== "no-store") throw new Error("error response lacks Cache-Control: no-store");
  if (typeof body.error_description !== "string") throw new Error("error response lacks error_description");
  return body;
}
