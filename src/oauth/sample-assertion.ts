/**
 * The sample client assertion of GET /jwts (SPEC §7): the claim set a client should sign, and for
 * a client_secret_jwt client the signed assertion itself.
 */
import { SignJWT } from "jose";
import type { AudienceMode } from "../core/client-record.js";
import type { ClientRecord } from "../core/client-record.js";
import { isHmacAlg, type AssertionAlg } from "../core/algorithms.js";
import { CLIENT_AUTH_JWT_TYP } from "../core/protocol.js";

/** Lifetime of the sample assertion (SPEC §7: now + 2 min). */
export const SAMPLE_ASSERTION_LIFETIME_SECONDS = 120;

export interface SampleAssertion {
  header: { alg: AssertionAlg; typ: string; kid?: string };
  claims: { iss: string; sub: string; aud: string; exp: number; jti: string };
  /** Present when the server signed it (client_secret_jwt, for a caller who could sign it: SPEC §7). */
  client_assertion?: string;
}

/**
 * @param clientSecret the plain secret of a client_secret_jwt client (undefined otherwise).
 * @param tokenEndpointUrl the aud in compat mode; strict mode uses the issuer.
 */
export async function buildSampleAssertion(
  client: ClientRecord,
  clientSecret: string | undefined,
  options: { issuer: string; tokenEndpointUrl: string; audienceMode: AudienceMode; now: number },
): Promise<SampleAssertion> {
  const mode = client.audience_mode ?? options.audienceMode;
  const claims = {
    iss: client.client_id,
    sub: client.client_id,
    aud: mode === "strict" ? options.issuer : options.tokenEndpointUrl,
    exp: options.now + SAMPLE_ASSERTION_LIFETIME_SECONDS,
    jti: crypto.randomUUID(),
  };
  const defaultAlg: AssertionAlg = client.token_endpoint_auth_method === "client_secret_jwt" ? "HS256" : "ES256";
  const alg = client.token_endpoint_auth_signing_alg ?? client.jwks?.keys[0]?.alg as AssertionAlg | undefined ?? defaultAlg;
  const kid = client.token_endpoint_auth_method === "private_key_jwt" ? client.jwks?.keys[0]?.kid : undefined;
  // The explicit typ is accepted in both audience modes and is what the CLI and src/client sign with.
  const header = { alg, typ: CLIENT_AUTH_JWT_TYP, ...(kid ? { kid } : {}) };
  if (clientSecret === undefined || !isHmacAlg(alg)) return { header, claims };
  const client_assertion = await new SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode(clientSecret));
  return { header, claims, client_assertion };
}
