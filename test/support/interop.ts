/**
 * Shared pieces of the interop suite (test/interop/*.test.ts): real client libraries
 * (openid-client 6, oauth4webapi 3) and a jose resource server run inside workerd, with their HTTP
 * routed through the Worker under test by their custom-fetch hooks, and clients registered
 * through the admin API like an operator would.
 */
import { createRemoteJWKSet, customFetch as joseCustomFetch, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWTPayload } from "jose";
import { expect } from "vitest";
import { callWorker, ISSUER, registerClient, uniqueId } from "./helpers.js";

export { ISSUER };

/**
 * The custom fetch every library gets: the request goes to the Worker (callWorker), never the network.
 * The libraries pass (url, init) like fetch; workerd's fetch accepts the same shapes.
 */
export function workerFetch(url: string, init: RequestInit): Promise<Response> {
  return callWorker(url, init);
}

/** Every request the libraries made, for the interop notes (method, path, headers of interest). */
export const seenRequests: { method: string; path: string; contentType: string | null; authorization: string | null; body: string }[] = [];

/** workerFetch that also records what the library sent. */
export async function recordingFetch(url: string, init: RequestInit): Promise<Response> {
  const request = new Request(url, init);
  // Decoded by hand: workerd warns when .text() reads a form body (its Content-Type is not text/*).
  const body = request.method === "POST" ? new TextDecoder().decode(await request.clone().arrayBuffer()) : "";
  seenRequests.push({
    method: request.method,
    path: new URL(url).pathname,
    contentType: request.headers.get("content-type"),
    authorization: request.headers.get("authorization"),
    body,
  });
  return callWorker(request);
}

export type InteropMethod = "private_key_jwt" | "client_secret_jwt" | "client_secret_basic" | "client_secret_post";

export interface InteropKeyClient {
  clientId: string;
  privateKey: CryptoKey;
  kid: string;
  alg: string;
}

/**
 * Register a private_key_jwt client through the admin API with a fresh key pair.
 * @param registeredAlg the `alg` written into the registered JWK (may differ from the signing alg,
 *   e.g. `EdDSA` registered while the library signs with the fully-specified `Ed25519`).
 */
export async function registerInteropKeyClient(
  alg: string,
  extra: Record<string, unknown> = {},
  registeredAlg: string = alg,
): Promise<InteropKeyClient> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `interop-${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 6)}`;
  const clientId = uniqueId(`interop-pkjwt-${alg.toLowerCase()}`);
  await registerClient({
    client_id: clientId,
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: registeredAlg, use: "sig" }] },
    scope: "read write",
    resources: ["https://api.interop.test/"],
    ...extra,
  });
  return { clientId, privateKey, kid, alg };
}

/** Register a secret-based client; the secret is shown once, here. */
export async function registerInteropSecretClient(
  method: Exclude<InteropMethod, "private_key_jwt">,
  extra: Record<string, unknown> = {},
): Promise<{ clientId: string; secret: string }> {
  const info = await registerClient({
    client_id: uniqueId(`interop-${method}`),
    token_endpoint_auth_method: method,
    scope: "read write",
    resources: ["https://api.interop.test/"],
    ...extra,
  });
  return { clientId: info.client_id, secret: info.client_secret };
}

/**
 * Verify an access token the way a resource server would (RFC 9068 §4): signature against the
 * jwks_uri from the metadata, fetched by jose's createRemoteJWKSet through the Worker; `typ`
 * at+jwt; issuer; audience; and the claims RFC 9068 §2.2 requires.
 */
export async function verifyAsResourceServer(
  accessToken: string,
  expected: { jwksUri: string; audience: string; clientId: string; scope?: string },
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(expected.jwksUri), { [joseCustomFetch]: (url, init) => callWorker(url, init) });
  const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, { issuer: ISSUER, audience: expected.audience, typ: "at+jwt" });
  expect(protectedHeader.typ).toBe("at+jwt");
  for (const claim of ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]) expect(payload, `RFC 9068 §2.2 claim ${claim}`).toHaveProperty(claim);
  expect(payload.client_id).toBe(expected.clientId);
  expect(payload.sub).toBe(expected.clientId);
  if (expected.scope !== undefined) expect(payload.scope).toBe(expected.scope);
  return payload;
}
