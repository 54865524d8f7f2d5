/**
 * A client's secrets: opened from their sealed form (current, and the previous one during a
 * rotation's overlap), and compared in constant time (client_secret_basic / client_secret_post,
 * admin token). Both sides are hashed first, so the comparison time depends on neither length nor
 * content (RFC 6749 §10.3 / OWASP: no early-exit string compare on secrets).
 */
import type { ClientRecord } from "../../stores/clients.js";
import type { SecretBox } from "../../stores/secret-box.js";
import { clientAuthFailed } from "./failures.js";

const encoder = new TextEncoder();

export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b) && presented.length === expected.length;
}

/**
 * Whether `secret` is a live secret of `client`, compared in constant time with every live secret
 * (no early exit): during a rotation's overlap, old and new both work. Also serves GET /jwts
 * (SPEC §7: a caller who proves the client's secret may have its sample signed).
 * @throws OAuthError invalid_client when the client has no readable current secret.
 */
export async function clientSecretMatches(client: ClientRecord, secret: string, deps: { secretBox(): Promise<SecretBox> }, now: number): Promise<boolean> {
  let matched = false;
  for (const expected of await openSecrets(client, () => deps.secretBox(), now)) {
    if (await secretsEqual(secret, expected)) matched = true;
  }
  return matched;
}

/**
 * The secrets that authenticate `client` at `now` (seconds): its current secret, then, during the
 * overlap after a rotation, the previous one.
 * @throws OAuthError invalid_client when the client has no readable current secret.
 */
export async function openSecrets(client: ClientRecord, secretBox: () => Promise<SecretBox>, now: number): Promise<string[]> {
  if (client.client_secret_sealed === undefined) throw clientAuthFailed("secret_mismatch");
  const box = await secretBox();
  const current = await openSealed(box, client.client_id, client.client_secret_sealed);
  if (current === undefined) throw clientAuthFailed("secret_mismatch");
  const previousLive = client.client_secret_previous_sealed !== undefined && (client.client_secret_previous_expires_at ?? 0) > now;
  const previous = previousLive ? await openSealed(box, client.client_id, client.client_secret_previous_sealed!) : undefined;
  return previous === undefined ? [current] : [current, previous];
}

/** A sealed secret in plain text, or undefined when it was sealed under another CLIENT_SECRET_KEY. */
async function openSealed(box: SecretBox, clientId: string, sealed: string): Promise<string | undefined> {
  try {
    return await box.open(clientId, sealed);
  } catch (cause) {
    if (cause instanceof Error && cause.name === "ConfigError") throw cause;
    // A secret sealed under another CLIENT_SECRET_KEY cannot authenticate anyone.
    console.error(JSON.stringify({ event: "client_secret_unreadable", client_id: clientId }));
    return undefined;
  }
}
