/**
 * Support for the resource-server verifier tests: tokens minted by the Worker under test (real
 * client registration, real token endpoint), and a fetch that reaches that Worker, counting calls
 * per path, optionally rewriting or failing some (the verifier's only way out is `fetch`).
 */
import { SignJWT } from "jose";
import { expect } from "vitest";
import { AccessTokenError } from "../../src/resource/index.js";
import type { VerifyOptions } from "../../src/resource/verify.js";
import { callWorker, ISSUER, keyAssertion, nowSeconds, registerKeyClient, tokenWithAssertion, type KeyClient } from "./helpers.js";
import { dpopProof, tokenWithDpop, type DpopKey } from "./lifecycle.js";

/** The protected resource of these tests (RFC 8707 identifier and the URL requests go to). */
export const RESOURCE = "https://api.example/orders";

export interface CountingFetch {
  (input: string | URL, init?: RequestInit): Promise<Response>;
  /** Calls so far, by URL path. */
  readonly calls: Map<string, number>;
}

/**
 * A fresh fetch into the Worker (so a fresh verifier cache: caches are kept per fetch function).
 * `intercept` may answer a call itself (return a Response) or let it through (undefined).
 */
export function workerFetch(intercept?: (url: URL, forward: () => Promise<Response>) => Promise<Response | undefined> | Response | undefined): CountingFetch {
  const calls = new Map<string, number>();
  const fetchImpl = async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.set(url.pathname, (calls.get(url.pathname) ?? 0) + 1);
    const forward = () => callWorker(url.href, init);
    return (await intercept?.(url, forward)) ?? forward();
  };
  return Object.assign(fetchImpl, { calls });
}

/** A client allowed to ask for RESOURCE (and one other resource), with scopes read and write. */
export function registerResourceClient(extra: Record<string, unknown> = {}): Promise<KeyClient> {
  return registerKeyClient("ES256", { resources: [RESOURCE, "https://other.example/api"], ...extra });
}

/** A token from the token endpoint; fails the test on anything but 200. */
export async function mintToken(client: KeyClient, form: Record<string, string> = {}, proof?: string): Promise<string> {
  const assertion = await keyAssertion(client);
  const params = { resource: RESOURCE, ...form };
  const res = proof === undefined ? await tokenWithAssertion(assertion, params) : await tokenWithDpop(assertion, proof, params);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ access_token: string }>()).access_token;
}

/** A request to the resource with `Authorization: <scheme> <token>` and extra headers. */
export function resourceRequest(token: string, scheme = "Bearer", headers: Record<string, string> = {}, url = RESOURCE, method = "GET"): Request {
  return new Request(url, { method, headers: { Authorization: `${scheme} ${token}`, ...headers } });
}

/** The proof a client sends with a DPoP-bound token to the resource (RFC 9449 §7). */
export async function resourceProof(key: DpopKey, token: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  const ath = await athOf(token);
  return dpopProof(key, { htm: "GET", htu: RESOURCE, ath, ...claims }, header);
}

/** base64url SHA-256 of the token (RFC 9449 §4.2 `ath`). */
export async function athOf(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Options for this Worker as issuer and RESOURCE as audience, with a fresh fetch unless given. */
export function options(extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { issuer: ISSUER, audience: RESOURCE, fetch: workerFetch(), ...extra };
}

/** Expect a rejection: its status, error code and description. Returns the error. */
export async function expectRejected(promise: Promise<unknown>, status: number, code: string | null, description?: RegExp): Promise<AccessTokenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AccessTokenError)) throw new Error(`expected an AccessTokenError, got ${err === undefined ? "success" : String(err)}`);
  expect({ status: err.status, code: err.code }).toEqual({ status, code });
  if (description !== undefined) expect(err.description).toMatch(description);
  return err;
}

/** Sign a token-shaped JWT with any key (foreign keys, unknown kids). */
export function signWith(key: CryptoKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

export { nowSeconds };
