/**
 * verifyClientAssertion(): RFC 7523 client assertions (`private_key_jwt`, `client_secret_jwt`),
 * SPEC §3 rules 2-9 in a fixed order. Rule 10's single-use `jti` is consumed by the caller, last
 * (see client-auth/index.ts), so a request that fails a later check does not burn the assertion.
 */
import { base64url, compactVerify, type JWSHeaderParameters } from "jose";
import type { AudienceMode } from "../../core/client-record.js";
import type { ClientRecord } from "../../core/client-record.js";
import { isAsymmetricAlg, isHmacAlg, sameAlgorithm, type AssertionAlg } from "../../core/algorithms.js";
import { checkAssertionClaims, type ClaimRules, type VerifiedAssertion } from "./assertion-claims.js";

export type { VerifiedAssertion };
import { clientAuthFailed } from "./failures.js";
import { resolveAssertionKey } from "./keys.js";
import { type ClientKeySource } from "../../core/key-sources.js";

/** RFC 7523 §3 / SPEC §3 rule 2: assertions larger than this are refused before parsing. */
export const MAX_ASSERTION_BYTES = 8 * 1024;

/** The explicit `typ` of RFC 7523bis / FAPI 2.0 client assertions. */
export const CLIENT_AUTH_JWT_TYP = "client-authentication+jwt";

/** A compact JWS split and decoded, not yet verified. */
export interface ParsedAssertion {
  readonly compact: string;
  readonly header: JWSHeaderParameters;
  /** Claims as sent. Untrusted until the signature is verified: used only to find the client. */
  readonly unverifiedClaims: Record<string, unknown> | undefined;
}

export interface AssertionContext extends ClaimRules {
  /** Audience mode in force for this client (its override, else the server's). */
  readonly audienceMode: AudienceMode;
}

const decoder = new TextDecoder();

/**
 * SPEC §3 rule 2: a compact JWS of at most 8 KiB, never JWE, never `alg: none`.
 * @throws OAuthError invalid_client naming the rule.
 */
export function parseClientAssertion(compact: string): ParsedAssertion {
  if (compact.length > MAX_ASSERTION_BYTES) throw clientAuthFailed("assertion_too_large");
  const segments = compact.split(".");
  if (segments.length === 5) throw clientAuthFailed("assertion_is_jwe");
  if (segments.length !== 3 || segments[0] === "" || segments[1] === "") throw clientAuthFailed("assertion_not_jws");
  // RFC 7515 §2 / RFC 4648 §3.5: one spelling per byte string. A lenient decoder would accept
  // padding, whitespace or non-zero unused bits in the signature, so one signed assertion would
  // have many accepted forms (found by test/fuzz/assertion-mutations.test.ts).
  if (!segments.every(isCanonicalBase64url)) throw clientAuthFailed("assertion_not_jws");
  const header = decodeJsonSegment(segments[0]!);
  if (header === undefined) throw clientAuthFailed("assertion_not_jws");
  if (typeof header.enc === "string") throw clientAuthFailed("assertion_is_jwe");
  if (typeof header.alg !== "string") throw clientAuthFailed("assertion_not_jws");
  if (header.alg.toLowerCase() === "none") throw clientAuthFailed("assertion_alg_none");
  if (segments[2] === "") throw clientAuthFailed("assertion_not_jws");
  return { compact, header: header as JWSHeaderParameters, unverifiedClaims: decodeJsonSegment(segments[1]!) };
}

/**
 * SPEC §3 rules 3-9 for `client`, whose method is private_key_jwt or client_secret_jwt.
 * @param clientSecret the client's secret in plain text, for client_secret_jwt.
 * @throws OAuthError invalid_client naming the first rule that failed.
 */
export async function verifyClientAssertion(
  parsed: ParsedAssertion,
  client: ClientRecord,
  clientSecret: string | undefined,
  keySource: ClientKeySource,
  context: AssertionContext,
): Promise<VerifiedAssertion> {
  const { header } = parsed;
  const alg = checkAssertionHeader(header, client, context.audienceMode);

  // Rule 4: the key comes from the client's own registration, never from jku/x5u/jwk headers.
  const key = await resolveAssertionKey(client, alg, header.kid, clientSecret, keySource);

  // Rule 5: the signature verifies before any claim is trusted.
  try {
    await compactVerify(parsed.compact, key, { algorithms: [alg] });
  } catch {
    throw clientAuthFailed("assertion_signature_invalid");
  }
  // The signature covers exactly the payload segment parseClientAssertion() decoded (canonical
  // base64url, no crit/b64 extension), so those claims are now trusted; not decoded a second time.
  const claims = parsed.unverifiedClaims;
  if (claims === undefined) throw clientAuthFailed("assertion_payload_invalid");

  // Rules 6-8 and the shape of rule 10.
  return checkAssertionClaims(claims, client.client_id, context);
}

/** Rules 3 and 9: alg allowed for the method and registration, no unknown crit, typ by mode. */
function checkAssertionHeader(header: JWSHeaderParameters, client: ClientRecord, audienceMode: AudienceMode): AssertionAlg {
  const alg = header.alg;
  const allowed = client.token_endpoint_auth_method === "private_key_jwt" ? isAsymmetricAlg(alg) : isHmacAlg(alg);
  if (!allowed) throw clientAuthFailed("assertion_alg_not_allowed");
  if (client.token_endpoint_auth_signing_alg !== undefined && !sameAlgorithm(alg as string, client.token_endpoint_auth_signing_alg)) {
    throw clientAuthFailed("assertion_alg_not_registered");
  }
  // RFC 7515 §4.1.11: this server implements no crit extension, so any crit is unknown.
  if (header.crit !== undefined) throw clientAuthFailed("assertion_crit_unsupported");
  const typ = header.typ;
  const typOk =
    audienceMode === "strict"
      ? typ === CLIENT_AUTH_JWT_TYP
      : typ === undefined || typ === "JWT" || typ === CLIENT_AUTH_JWT_TYP;
  if (!typOk) throw clientAuthFailed("assertion_typ_invalid");
  return alg as AssertionAlg;
}

const BASE64URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * Whether `segment` is the one base64url spelling of its bytes (RFC 4648 §3.5, §5; RFC 7515 §2):
 * alphabet only, no padding, a length that is not 1 mod 4, and the unused low bits of a partial
 * last group zero. Checked arithmetically, without decoding (this runs on every token request).
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL_TEXT.test(segment)) return false;
  const partial = segment.length % 4;
  if (partial === 0) return true;
  if (partial === 1) return false;
  // Two characters carry one byte (4 spare bits), three carry two bytes (2 spare bits).
  const last = BASE64URL_CHARS.indexOf(segment[segment.length - 1]!);
  return (last & (partial === 2 ? 0b1111 : 0b11)) === 0;
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    return parseJsonObject(decoder.decode(base64url.decode(segment)));
  } catch {
    return undefined;
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
