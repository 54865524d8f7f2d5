/**
 * Every Workers KV key of the `CLIENTS` namespace, built here and nowhere else: client
 * registrations (SPEC §6) and trusted issuers (SPEC §9) live side by side under their prefixes.
 */

export const CLIENT_KEY_PREFIX = "client:";
export const TRUSTED_ISSUER_KEY_PREFIX = "trusted-issuer:";
/** SPEC §13 index: `jwt-bearer:<SHA-256 of the issuer, hex>:<client_id>`, one key per client that has a jwt_bearer credential for the issuer. */
export const JWT_BEARER_INDEX_KEY_PREFIX = "jwt-bearer:";

/** Workers KV refuses longer keys (UTF-8 bytes) with an error, not a miss. */
export const KV_MAX_KEY_BYTES = 512;

export const clientKey = (clientId: string) => `${CLIENT_KEY_PREFIX}${clientId}`;
export const trustedIssuerKey = (issuer: string) => `${TRUSTED_ISSUER_KEY_PREFIX}${issuer}`;

/**
 * The prefix of every index key of `issuer`: a hash, so any issuer (up to 400 characters) fits a KV
 * key and no issuer's prefix is another's (client ids hold no `:`).
 */
export async function jwtBearerIssuerPrefix(issuer: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(issuer)));
  return `${JWT_BEARER_INDEX_KEY_PREFIX}${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}:`;
}
export const jwtBearerIndexKey = async (issuer: string, clientId: string) => `${await jwtBearerIssuerPrefix(issuer)}${clientId}`;

const encoder = new TextEncoder();
/** Whether KV can hold `key` at all (a longer one names nothing that exists). */
export const fitsKv = (key: string) => encoder.encode(key).length <= KV_MAX_KEY_BYTES;
