/**
 * Test support beyond test/support/helpers.ts: signing JWS by hand (for headers jose refuses to produce,
 * and for keys it refuses to use), writing client records straight into KV, and reading the
 * `curl` that GET /jwts prints. Requests to the Worker go through `callWorker` in helpers.ts
 * (re-exported here for the tests that import it from this module).
 */
import { env } from "cloudflare:test";
import { base64url } from "jose";
import { clientKey } from "../../src/stores/kv-keys.js";
import { loadSecretBox } from "../../src/stores/secret-box.js";
import { CreateClientSchema } from "../../src/oauth/registration/schema.js";
import type { ClientRecord } from "../../src/core/client-record.js";
import testSecrets from "../fixtures/server-secrets.json" with { type: "json" };
import { nowSeconds } from "./helpers.js";

export { callWorker, formInit } from "./helpers.js";

const encoder = new TextEncoder();
const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));

/**
 * A compact JWS signed with WebCrypto directly: any protected header (e.g. `crit`), any RSA
 * modulus size. `key` is an ECDSA, RSASSA-PKCS1-v1_5 or HMAC CryptoKey matching `header.alg`.
 */
export async function signRaw(header: Record<string, unknown>, claims: Record<string, unknown>, key: CryptoKey): Promise<string> {
  const input = `${b64json(header)}.${b64json(claims)}`;
  const alg = String(header.alg);
  const hash = `SHA-${alg.slice(2)}`;
  const params =
    key.algorithm.name === "ECDSA" ? { name: "ECDSA", hash } : key.algorithm.name === "RSASSA-PKCS1-v1_5" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "HMAC" };
  const signature = await crypto.subtle.sign(params, key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** Seal a client secret exactly as the server stores it (stores/secret-box.ts). */
export async function sealSecret(clientId: string, secret: string): Promise<string> {
  return (await loadSecretBox(testSecrets.CLIENT_SECRET_KEY)).seal(clientId, secret);
}

/**
 * Write a client record straight into KV, bypassing the admin API's validation (for records the
 * API refuses, such as a weak RSA key or a short secret).
 */
export async function putClientRecord(record: Partial<ClientRecord> & Pick<ClientRecord, "client_id" | "token_endpoint_auth_method">): Promise<void> {
  const now = nowSeconds();
  // The admin API's defaults for every field the record does not set (SPEC §6).
  const defaults = CreateClientSchema.parse({ token_endpoint_auth_method: record.token_endpoint_auth_method });
  const full: ClientRecord = { ...defaults, scope: "read write", created_at: now, updated_at: now, ...record };
  await env.CLIENTS.put(clientKey(record.client_id), JSON.stringify(full));
}

/** The URL and form of a `curl -X POST URL --data-urlencode 'k=v' …` command as /jwts prints it. */
export function parseCurl(curl: string): { url: string; form: Record<string, string> } {
  const words: string[] = [];
  // POSIX shell words: single-quoted runs (with '\'' escapes), double-quoted runs, bare text.
  const pattern = /'((?:[^']|'\\'')*)'|"([^"]*)"|(\S+)/g;
  for (const match of curl.matchAll(pattern)) {
    words.push(match[1] !== undefined ? match[1].replace(/'\\''/g, "'") : (match[2] ?? match[3]!));
  }
  const url = words.find((w) => /^https?:\/\//.test(w));
  if (url === undefined) throw new Error(`no URL in curl: ${curl}`);
  const form: Record<string, string> = {};
  words.forEach((word, i) => {
    if (word !== "--data-urlencode") return;
    const pair = words[i + 1]!;
    const eq = pair.indexOf("=");
    form[pair.slice(0, eq)] = pair.slice(eq + 1);
  });
  return { url, form };
}
