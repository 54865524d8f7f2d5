/**
 * Every Workers KV key of the `CLIENTS` namespace, built here and nowhere else: client
 * registrations (SPEC §6) and trusted issuers (SPEC §9) live side by side under their prefixes.
 */

export const CLIENT_KEY_PREFIX = "client:";
export const TRUSTED_ISSUER_KEY_PREFIX = "trusted-issuer:";

/** Workers KV refuses longer keys (UTF-8 bytes) with an error, not a miss. */
export const KV_MAX_KEY_BYTES = 512;

export const clientKey = (clientId: string) => `${CLIENT_KEY_PREFIX}${clientId}`;
export const trustedIssuerKey = (issuer: string) => `${TRUSTED_ISSUER_KEY_PREFIX}${issuer}`;

const encoder = new TextEncoder();
/** Whether KV can hold `key` at all (a longer one names nothing that exists). */
export const fitsKv = (key: string) => encoder.encode(key).length <= KV_MAX_KEY_BYTES;
