/**
 * Local-development conveniences (SPEC §8): a generated signing key and secret-encryption key kept
 * in the DevSecrets Durable Object, demo clients, the sample route on by default. They switch on
 * only for requests that arrive on a loopback host; Cloudflare's edge never routes a loopback
 * hostname to a deployed Worker, so a deployment missing a secret refuses to work instead.
 */
import type { ClientWrites } from "./stores/client-writer.js";
import type { ClientRecord } from "./stores/clients.js";
import type { DevMaterial } from "./stores/dev-secrets.js";
import type { SecretBox } from "./stores/secret-box.js";
import { toPublicJwk } from "./stores/signing-keys.js";
import { memoizeAsync } from "./memo.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** True for `127.0.0.1`, `localhost` and `[::1]` (URL.hostname form). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/** Demo client ids, created on the first loopback request of an isolate when missing. */
export const DEMO_SECRET_JWT_CLIENT_ID = "demo-client-secret-jwt";
export const DEMO_PRIVATE_KEY_JWT_CLIENT_ID = "demo-private-key-jwt";
export const DEMO_SCOPE = "read write";

const materialByNamespace = new WeakMap<object, Promise<DevMaterial>>();

/** The local dev material, fetched once per isolate from the DevSecrets object. */
export function devMaterial(env: Env): Promise<DevMaterial> {
  return memoizeAsync(materialByNamespace, env.DEV_SECRETS, () => env.DEV_SECRETS.get(env.DEV_SECRETS.idFromName("local-dev")).material());
}

const seeded = new WeakMap<object, Promise<void>>();

/** Create the two demo clients if they are missing; once per isolate. */
export function ensureDemoClients(env: Env, clients: ClientWrites, secretBox: () => Promise<SecretBox>): Promise<void> {
  return memoizeAsync(seeded, env.CLIENTS, () => seedDemoClients(env, clients, secretBox));
}

async function seedDemoClients(env: Env, clients: ClientWrites, secretBox: () => Promise<SecretBox>): Promise<void> {
  const material = await devMaterial(env);
  const now = Math.floor(Date.now() / 1000);
  const base = {
    scope: DEMO_SCOPE,
    grant_types: ["client_credentials"],
    resources: [],
    dpop_bound_access_tokens: false,
    disabled: false,
    created_at: now,
    updated_at: now,
  } satisfies Partial<ClientRecord>;
  await createIfMissing(clients, DEMO_SECRET_JWT_CLIENT_ID, async () => ({
    ...base,
    client_id: DEMO_SECRET_JWT_CLIENT_ID,
    client_name: "Demo client (client_secret_jwt)",
    token_endpoint_auth_method: "client_secret_jwt",
    token_endpoint_auth_signing_alg: "HS256",
    client_secret_sealed: await (await secretBox()).seal(DEMO_SECRET_JWT_CLIENT_ID, material.demoClientSecret),
  }));
  await createIfMissing(clients, DEMO_PRIVATE_KEY_JWT_CLIENT_ID, async () => ({
    ...base,
    client_id: DEMO_PRIVATE_KEY_JWT_CLIENT_ID,
    client_name: "Demo client (private_key_jwt)",
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_signing_alg: "ES256",
    jwks: { keys: [toPublicJwk(material.demoPrivateJwk)] },
  }));
}

/** Create through the writer of record when absent; a concurrent creation elsewhere wins. */
async function createIfMissing(clients: ClientWrites, clientId: string, build: () => Promise<ClientRecord>): Promise<void> {
  const current = await clients.read(clientId);
  if (current.record === null) await clients.commit(clientId, current.version, await build());
}
