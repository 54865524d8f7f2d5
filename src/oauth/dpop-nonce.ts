/**
 * Server-issued DPoP nonces (RFC 9449 §8), stateless: a nonce names a time window and carries an
 * HMAC of it, so any isolate anywhere can issue and check one without storage. A nonce is accepted
 * during its own window and the next, i.e. for NONCE_WINDOW_SECONDS to twice that. It limits how
 * far ahead a client can pre-generate proofs (RFC 9449 §11.2); single use of each proof is the
 * replay guard's job, not the nonce's.
 *
 * The HMAC key is derived with HKDF-SHA256 from the CLIENT_SECRET_KEY secret (a separate `info`
 * string keeps it independent of the secret-encryption key), so no new secret is needed. Rotating
 * CLIENT_SECRET_KEY invalidates outstanding nonces: clients just get one `use_dpop_nonce` retry.
 */
import { base64url } from "jose";
import { memoizeAsync } from "../memo.js";

/** Length of one nonce window. */
export const NONCE_WINDOW_SECONDS = 300;

export interface DpopNonces {
  /** A nonce for the window containing `now` (seconds). */
  issue(now: number): Promise<string>;
  /** Whether `nonce` was issued by this server for the current or the previous window. */
  isFresh(nonce: string, now: number): Promise<boolean>;
}

const WINDOW_BYTES = 4;
const MAC_BYTES = 32;
const encoder = new TextEncoder();
const cache = new Map<string, Promise<DpopNonces>>();

/** The nonce source for a CLIENT_SECRET_KEY value, derived once per value per isolate. */
export function loadDpopNonces(secretKeyValue: string): Promise<DpopNonces> {
  return memoizeAsync(cache, secretKeyValue, () => createDpopNonces(secretKeyValue));
}

async function createDpopNonces(secretKeyValue: string): Promise<DpopNonces> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secretKeyValue), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("edge-token-service"), info: encoder.encode("dpop-nonce v1") },
    ikm,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
  const windowOf = (now: number) => Math.floor(now / NONCE_WINDOW_SECONDS);
  const windowBytes = (window: number) => {
    const bytes = new Uint8Array(WINDOW_BYTES);
    new DataView(bytes.buffer).setUint32(0, window >>> 0);
    return bytes;
  };
  return {
    async issue(now) {
      const window = windowBytes(windowOf(now));
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, window));
      const nonce = new Uint8Array(WINDOW_BYTES + MAC_BYTES);
      nonce.set(window);
      nonce.set(mac, WINDOW_BYTES);
      // RFC 9449 §8.1: base64url is within the NQCHAR nonce syntax.
      return base64url.encode(nonce);
    },
    async isFresh(nonce, now) {
      let bytes: Uint8Array;
      try {
        bytes = base64url.decode(nonce);
      } catch {
        return false;
      }
      if (bytes.length !== WINDOW_BYTES + MAC_BYTES) return false;
      const window = bytes.slice(0, WINDOW_BYTES);
      const issuedIn = new DataView(window.buffer).getUint32(0);
      const current = windowOf(now) >>> 0;
      if (issuedIn !== current && issuedIn !== ((current - 1) >>> 0)) return false;
      // WebCrypto verify compares the MAC in constant time.
      return crypto.subtle.verify("HMAC", key, bytes.slice(WINDOW_BYTES), window);
    },
  };
}
