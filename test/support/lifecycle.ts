/**
 * Helpers for the token lifecycle tests (DPoP, introspection, revocation): DPoP proofs signed with
 * jose like a client would, calls to the introspection and revocation endpoints, access tokens
 * forged with the test server key (for expired or foreign-issuer cases), and a Durable Object
 * namespace that cannot be reached (to pass as an override to `callWorker`).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import { callWorker, formInit, ISSUER, JWT_BEARER, keyAssertion, nowSeconds, postForm, TOKEN_URL, type KeyClient } from "./helpers.js";

export const INTROSPECT_URL = `${ISSUER}/oauth2/introspect`;
export const REVOKE_URL = `${ISSUER}/oauth2/revoke`;
export const OTK_REVOKE_URL = `${ISSUER}/auth/oauth/v2/token/revoke`;

export interface DpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  alg: string;
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  jkt: string;
}

/** A fresh DPoP key pair. */
export async function dpopKey(alg = "ES256"): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, alg, jkt: await calculateJwkThumbprint(publicJwk, "sha256") };
}

/** Apply overrides to a record; an `undefined` value deletes the member. */
function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A DPoP proof for POST to the token endpoint, with claim and header overrides. */
export function dpopProof(key: DpopKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload = withOverrides({ jti: crypto.randomUUID(), htm: "POST", htu: TOKEN_URL, iat: nowSeconds() }, claims);
  const protectedHeader = withOverrides({ typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk }, header);
  return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
}

/** A client_credentials request with a DPoP header (or several, for an array). */
export function tokenWithDpop(assertion: string, proof: string | string[], extra: Record<string, string> = {}, url = TOKEN_URL): Promise<Response> {
  // Separate header lines, as a client sending the header twice would.
  const init = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra });
  const headers = new Headers(init.headers);
  for (const p of Array.isArray(proof) ? proof : [proof]) headers.append("DPoP", p);
  return callWorker(url, { ...init, headers });
}

/** The form of a request authenticated by `client` with an assertion for `aud`. */
export async function authenticatedForm(client: KeyClient, aud: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return { client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client, { aud }), ...extra };
}

/** POST /oauth2/introspect for `token`, authenticated by `caller`. */
export async function introspect(caller: KeyClient, token: string, extra: Record<string, string> = {}): Promise<Response> {
  return postForm(await authenticatedForm(caller, INTROSPECT_URL, { token, ...extra }), {}, INTROSPECT_URL);
}

/** Introspect and return the JSON body, failing on anything but 200. */
export async function introspection(caller: KeyClient, token: string): Promise<Record<string, any>> {
  const res = await introspect(caller, token);
  if (res.status !== 200) throw new Error(`introspection failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** POST /oauth2/revoke (or `url`) for `token`, authenticated by `caller`. */
export async function revoke(caller: KeyClient, token: string, extra: Record<string, string> = {}, url = REVOKE_URL): Promise<Response> {
  return postForm(await authenticatedForm(caller, url, { token, ...extra }), {}, url);
}

/** A Bearer access token for `client`, failing on anything but 200. */
export async function bearerToken(client: KeyClient): Promise<string> {
  const res = await postForm(await authenticatedForm(client, TOKEN_URL, { grant_type: "client_credentials" }));
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return (await res.json<any>()).access_token;
}

/** An access token signed with the test server key, as the server would, with overrides. */
export async function forgeServerToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const jwk = JSON.parse(testSecrets.SIGNING_KEYS).keys[0] as JWK;
  const key = await importJWK(jwk, "ES256");
  const now = nowSeconds();
  const payload = withOverrides(
    { iss: ISSUER, sub: "someone", client_id: "someone", aud: ISSUER, iat: now, exp: now + 600, jti: crypto.randomUUID() },
    claims,
  );
  const protectedHeader = withOverrides({ alg: "ES256", typ: "at+jwt", kid: jwk.kid }, header);
  return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key);
}

/** A Durable Object namespace whose every stub call fails, as when the object cannot be reached. */
export function unreachableNamespace<T extends Rpc.DurableObjectBranded | undefined>(real: DurableObjectNamespace<T>): DurableObjectNamespace<T> {
  const failingStub = new Proxy({}, { get: () => () => Promise.reject(new Error("Durable Object unreachable (test)")) });
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "get") return () => failingStub;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
