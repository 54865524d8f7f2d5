/**
 * Fetched key sets shared between isolates through the Cache API (SPEC §6). That cache belongs to
 * the zone, not to this Worker: any other Worker on the zone can write an entry under any key. So
 * an entry is used only if this Worker wrote it: each one carries an HMAC-SHA256 tag over its
 * cache key, its fetch time and its body, under a key derived with HKDF from a secret the Worker
 * holds (CLIENT_SECRET_KEY). An entry without a valid tag is a miss ("fetch"); without the secret
 * the shared cache is not used at all. A tagged entry is still validated again when read back, as
 * when it was fetched (another version of this Worker may have written it).
 *
 * Any trouble with the Cache API means "fetch": it is an optimisation, never a source of truth.
 */
import { base64url, type JWK } from "jose";
import { parseRemoteJwks } from "../core/jwk-set.js";
import { JWKS_CACHE_TTL_SECONDS } from "./key-set-cache.js";
import { deriveFromClientSecretKey } from "./secret-box.js";

const FETCHED_AT_HEADER = "X-Fetched-At";
const MAC_HEADER = "X-Key-Set-Mac";
const encoder = new TextEncoder();

export interface SharedKeySetCacheOptions {
  /** The zone's cache, or null for none. */
  readonly cache: () => Promise<Cache | null>;
  /** The secret entries are authenticated under, or undefined: then nothing is read or written. */
  readonly secret: (() => Promise<string>) | undefined;
}

export interface SharedKeySetCache {
  /** The set this Worker stored under `key`, still fresh at `now` (ms) and valid, or null. */
  read(key: string, now: number): Promise<{ keys: readonly JWK[]; fetchedAt: number } | null>;
  /** Store `keys` fetched at `now` (ms) under `key`; failures are ignored. */
  write(key: string, keys: readonly JWK[], now: number): Promise<void>;
}

/** The HMAC key of the tags, derived from the secret (once per value per isolate). */
const macKey = (secret: string) => deriveFromClientSecretKey(secret, "shared key-set cache v1", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]);

/** What the tag covers: the cache key, the fetch time and the body, unambiguously joined. */
const signed = (key: string, fetchedAt: number, body: string) => encoder.encode(`${key.length}:${key}\n${fetchedAt}\n${body}`);

/** A tag as stored: 32 bytes, base64url (43 characters); anything else is no tag. */
const tagOf = (text: string): Uint8Array | undefined => (/^[A-Za-z0-9_-]{43}$/.test(text) ? base64url.decode(text) : undefined);

export function sharedKeySetCache(options: SharedKeySetCacheOptions): SharedKeySetCache {
  const secret = options.secret;
  return {
    async read(key, now) {
      if (secret === undefined) return null;
      try {
        const store = await options.cache();
        const hit = await store?.match(key);
        if (!hit) return null;
        const fetchedAt = Number(hit.headers.get(FETCHED_AT_HEADER));
        const tag = tagOf(hit.headers.get(MAC_HEADER) ?? "");
        if (tag === undefined || !Number.isSafeInteger(fetchedAt) || now - fetchedAt >= JWKS_CACHE_TTL_SECONDS * 1000 || now < fetchedAt) {
          await hit.body?.cancel();
          return null;
        }
        const body = await hit.text();
        // crypto.subtle.verify compares in constant time.
        if (!(await crypto.subtle.verify("HMAC", await macKey(await secret()), tag, signed(key, fetchedAt, body)))) return null;
        // SPEC §6: the same rules as a fresh fetch; anything else means "fetch".
        const parsed = parseRemoteJwks(body);
        return parsed.ok ? { keys: parsed.keys, fetchedAt } : null;
      } catch {
        return null;
      }
    },
    async write(key, keys, now) {
      if (secret === undefined) return;
      try {
        const store = await options.cache();
        if (!store) return;
        const body = JSON.stringify({ keys });
        const tag = await crypto.subtle.sign("HMAC", await macKey(await secret()), signed(key, now, body));
        await store.put(
          key,
          new Response(body, {
            headers: {
              "Content-Type": "application/json",
              "Cache-Control": `max-age=${JWKS_CACHE_TTL_SECONDS}`,
              [FETCHED_AT_HEADER]: String(now),
              [MAC_HEADER]: base64url.encode(new Uint8Array(tag)),
            },
          }),
        );
      } catch {
        // Not cached: the next isolate fetches again.
      }
    },
  };
}
