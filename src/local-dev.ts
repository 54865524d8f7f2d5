/**
 * Local development (SPEC §8), one explicit mode, decided here and nowhere else.
 *
 * It applies when the request arrives on a loopback host AND the Worker has no production key
 * material (neither SIGNING_KEYS nor CLIENT_SECRET_KEY) AND its ISSUER is unset or a loopback
 * origin. Overriding ADMIN_TOKEN, a loopback ISSUER or SAMPLE_JWT_ROUTE with `--var` keeps it; a
 * public ISSUER never runs it, and outside it demo clients authenticate nobody. A Worker with its secrets, reached with a loopback URL (a
 * service binding called as `http://localhost/…`, a gateway that rebuilds URLs, `wrangler dev
 * --ip 0.0.0.0`), is a deployment: none of this applies.
 *
 * What it changes, by decorating the deployment's parts (context.ts) rather than by a flag others
 * branch on:
 * - the secret source: a configured secret is used as is; a missing one comes from the DevSecrets
 *   Durable Object (generated once, kept under .wrangler/), and the generated admin token is shown
 *   once in the log; LOCAL_DEV_SIGNING_KEYS (read in local dev only) replaces the generated
 *   signing key, so a key rotation can be rehearsed locally;
 * - the client registry: the two demo clients exist before the first read;
 * - the key ring (SIGNING_KEY_ROTATION = "auto"): its own ring object, sealed under the generated
 *   CLIENT_SECRET_KEY;
 * - the issuer, when ISSUER is unset: the request origin with its loopback host written as
 *   127.0.0.1, so `localhost`, `127.0.0.1` and `[::1]` are one issuer (same scheme and port);
 * - values passed down: /jwts on by default, the demo client as its default (signed for anyone),
 *   loopback `jwks_uri`s accepted, and the walk-through behind GET /admin/local-dev.
 */
import { isLoopbackHostname, LOCAL_DEV_ADDRESSES, type AddressPolicy } from "./core/addresses.js";
import type { SampleRouteMode } from "./config.js";
import { memoizeAsync } from "./memo.js";
import { invalidMetadata, parseOrThrow } from "./oauth/registration/invalid-metadata.js";
import { CreateClientSchema } from "./oauth/registration/schema.js";
import type { ClientWrites } from "./stores/registry-writer.js";
import type { ClientLookup } from "./stores/clients.js";
import type { ClientRecord } from "./core/client-record.js";
import { devMaterialFrom, type DevMaterial } from "./stores/dev-secrets.js";
import type { RingSealing } from "./stores/key-ring.js";
import type { SecretBox } from "./stores/secret-box.js";
import { toPublicJwk } from "./stores/signing-keys.js";
import type { JWK } from "jose";

/** Demo client ids, created on the first local-dev request of an isolate when missing. */
export const DEMO_SECRET_JWT_CLIENT_ID = "demo-client-secret-jwt";
export const DEMO_PRIVATE_KEY_JWT_CLIENT_ID = "demo-private-key-jwt";
export const DEMO_SCOPE = "read write";

export type SecretName = "ADMIN_TOKEN" | "SIGNING_KEYS" | "CLIENT_SECRET_KEY";

/** The parts of a server that differ between a deployment and local dev. */
export interface DeploymentParts {
  /** ISSUER, or undefined when unset (a deployment then refuses: context.ts). */
  readonly issuer: string | undefined;
  secret(name: SecretName): Promise<string>;
  readonly clients: ClientLookup;
  readonly clientWriter: ClientWrites;
  /** SAMPLE_JWT_ROUTE when unset. */
  readonly sampleRouteDefault: SampleRouteMode;
  /** The client /jwts shows without client_id, and signs for any caller. */
  readonly sampleDemoClientId: string | undefined;
  /** Which URLs may be registered and fetched (jwks_uri, trusted issuers' URLs). */
  readonly addressPolicy: AddressPolicy;
  /** GET /admin/local-dev: the demo clients' credentials, for `npm start` to print. */
  readonly walkthrough: (() => Promise<LocalDevWalkthrough>) | undefined;
  /** With SIGNING_KEY_ROTATION = "auto": which key ring, sealed under which secret (stores/key-ring.ts). */
  readonly keyRingSealing: RingSealing;
}

export interface LocalDevWalkthrough {
  demo_clients: [
    { client_id: string; token_endpoint_auth_method: "client_secret_jwt"; client_secret: string },
    { client_id: string; token_endpoint_auth_method: "private_key_jwt"; private_jwk: JWK },
  ];
}

/**
 * The one decision (SPEC §8): a loopback host, no production key material, and an issuer that is
 * local too (ISSUER unset or a loopback origin): a Worker deployed with a public ISSUER before its
 * secrets were set is a deployment, whatever URL reaches it.
 */
export function localDevApplies(env: Env, url: URL): boolean {
  const configured = (name: SecretName) => typeof env[name] === "string" && env[name].trim() !== "";
  const issuer = typeof env.ISSUER === "string" ? env.ISSUER.trim() : "";
  const localIssuer = issuer === "" || (URL.canParse(issuer) && isLoopbackHostname(new URL(issuer).hostname));
  return isLoopbackHostname(url.hostname) && !configured("SIGNING_KEYS") && !configured("CLIENT_SECRET_KEY") && localIssuer;
}

const DEMO_CLIENT_IDS: ReadonlySet<string> = new Set([DEMO_SECRET_JWT_CLIENT_ID, DEMO_PRIVATE_KEY_JWT_CLIENT_ID]);

/**
 * The deployment's parts outside local dev: demo clients never outlive it (SPEC §8). A demo client
 * found in the registry (written by local dev before the secrets were set, or before ISSUER was)
 * authenticates nobody: it reads as unknown, and a log line tells the operator to delete it. The
 * admin API still shows it, so it can be deleted; it cannot create one (nor change a leftover):
 * the ids are reserved for local dev, and such a client could never authenticate here.
 */
export function outsideLocalDev(deployed: DeploymentParts): DeploymentParts {
  const refuseDemo = (record: ClientRecord | null) => {
    if (record === null || !DEMO_CLIENT_IDS.has(record.client_id)) return record;
    console.warn(JSON.stringify({ event: "demo_client_refused", client_id: record.client_id, action: "delete it: DELETE /admin/clients/" + record.client_id }));
    return null;
  };
  return {
    ...deployed,
    clients: {
      get: async (clientId) => refuseDemo(await deployed.clients.get(clientId)),
      list: (limit, cursor) => deployed.clients.list(limit, cursor),
    },
    clientWriter: {
      read: (clientId) => deployed.clientWriter.read(clientId),
      commit: async (clientId, version, next) => {
        if (next !== null && DEMO_CLIENT_IDS.has(clientId)) {
          throw invalidMetadata("client_id", `${clientId} is reserved for local dev's demo client (outside local dev it authenticates nobody); choose another client_id`);
        }
        return deployed.clientWriter.commit(clientId, version, next);
      },
    },
  };
}

/**
 * The deployment's parts as local dev changes them. Call only when `localDevApplies`.
 * @param secretBox opens the CLIENT_SECRET_KEY box through the returned secret source.
 */
export function withLocalDev(env: Env, url: URL, deployed: DeploymentParts, secretBox: (secret: string) => Promise<SecretBox>): DeploymentParts {
  const secret = async (name: SecretName): Promise<string> => {
    // A configured value (here only ADMIN_TOKEN can be) is used as is, never supplemented.
    if (typeof env[name] === "string" && env[name].trim() !== "") return deployed.secret(name);
    // Local signing-key rotation (docs/operating.md, `ets keys … --local`) sets the local key under
    // its own name: SIGNING_KEYS itself would make this Worker a deployment (localDevApplies).
    if (name === "SIGNING_KEYS" && typeof env.LOCAL_DEV_SIGNING_KEYS === "string" && env.LOCAL_DEV_SIGNING_KEYS.trim() !== "") {
      return env.LOCAL_DEV_SIGNING_KEYS;
    }
    const material = await devMaterial(env);
    if (name === "ADMIN_TOKEN") announceDevAdminToken(material.adminToken);
    return { ADMIN_TOKEN: material.adminToken, SIGNING_KEYS: material.signingKeys, CLIENT_SECRET_KEY: material.clientSecretKey }[name];
  };
  const adminTokenConfigured = typeof env.ADMIN_TOKEN === "string" && env.ADMIN_TOKEN.trim() !== "";
  const seeded = async () => {
    await ensureDemoClients(env, deployed.clientWriter, async () => secretBox(await secret("CLIENT_SECRET_KEY")));
    // Plain `wrangler dev` on a fresh clone: the generated admin token is logged by the first
    // request that reads a client (the walk-through's first `curl /jwts`), not only by an admin call.
    if (!adminTokenConfigured) await secret("ADMIN_TOKEN");
  };
  return {
    issuer: deployed.issuer ?? localDevIssuer(url),
    secret,
    clients: {
      get: async (clientId) => (await seeded(), deployed.clients.get(clientId)),
      list: async (limit, cursor) => (await seeded(), deployed.clients.list(limit, cursor)),
    },
    clientWriter: {
      read: async (clientId) => (await seeded(), deployed.clientWriter.read(clientId)),
      commit: async (clientId, version, next) => (await seeded(), deployed.clientWriter.commit(clientId, version, next)),
    },
    sampleRouteDefault: "on",
    sampleDemoClientId: DEMO_SECRET_JWT_CLIENT_ID,
    addressPolicy: LOCAL_DEV_ADDRESSES,
    // Local dev's own ring, sealed under the generated CLIENT_SECRET_KEY: a deployment's ring never is.
    keyRingSealing: "local-dev",
    walkthrough: async () => {
      const material = await devMaterial(env);
      return {
        demo_clients: [
          { client_id: DEMO_SECRET_JWT_CLIENT_ID, token_endpoint_auth_method: "client_secret_jwt", client_secret: material.demoClientSecret },
          { client_id: DEMO_PRIVATE_KEY_JWT_CLIENT_ID, token_endpoint_auth_method: "private_key_jwt", private_jwk: material.demoPrivateJwk },
        ],
      };
    },
  };
}

/** The request origin with a loopback host written as 127.0.0.1 (same scheme and port). */
export function localDevIssuer(url: URL): string {
  return `${url.protocol}//127.0.0.1${url.port ? `:${url.port}` : ""}`;
}

const materialByNamespace = new WeakMap<object, Promise<DevMaterial>>();

/** The local dev material, fetched once per isolate from the DevSecrets object. */
function devMaterial(env: Env): Promise<DevMaterial> {
  return memoizeAsync(materialByNamespace, env.DEV_SECRETS, () => devMaterialFrom(env.DEV_SECRETS));
}

let announced = false;
/** Plain `wrangler dev` without ADMIN_TOKEN: show the generated local token once per isolate. */
function announceDevAdminToken(token: string): void {
  if (announced) return;
  announced = true;
  console.log(`local dev: ADMIN_TOKEN is not set; the generated local admin token is ${token}`);
}

const seededByNamespace = new WeakMap<object, Promise<void>>();

/** Create the two demo clients if they are missing; once per isolate. */
function ensureDemoClients(env: Env, clients: ClientWrites, secretBox: () => Promise<SecretBox>): Promise<void> {
  return memoizeAsync(seededByNamespace, env.CLIENTS, () => seedDemoClients(env, clients, secretBox));
}

async function seedDemoClients(env: Env, clients: ClientWrites, secretBox: () => Promise<SecretBox>): Promise<void> {
  const material = await devMaterial(env);
  const now = Math.floor(Date.now() / 1000);
  // The admin API's defaults (SPEC §6), so a demo client's record has every field a registered one has.
  const registered = (clientId: string, metadata: Record<string, unknown>) => ({
    ...parseOrThrow(CreateClientSchema, { client_id: clientId, scope: DEMO_SCOPE, ...metadata }),
    client_id: clientId,
    created_at: now,
    updated_at: now,
  });
  await createIfMissing(clients, DEMO_SECRET_JWT_CLIENT_ID, async () => ({
    ...registered(DEMO_SECRET_JWT_CLIENT_ID, {
      client_name: "Demo client (client_secret_jwt)",
      token_endpoint_auth_method: "client_secret_jwt",
      token_endpoint_auth_signing_alg: "HS256",
    }),
    client_secret_sealed: await (await secretBox()).seal(DEMO_SECRET_JWT_CLIENT_ID, material.demoClientSecret),
  }));
  await createIfMissing(clients, DEMO_PRIVATE_KEY_JWT_CLIENT_ID, async () => ({
    ...registered(DEMO_PRIVATE_KEY_JWT_CLIENT_ID, {
      client_name: "Demo client (private_key_jwt)",
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_signing_alg: "ES256",
      jwks: { keys: [toPublicJwk(material.demoPrivateJwk)] },
    }),
  }));
}

/** Create through the writer of record when absent; a concurrent creation elsewhere wins. */
async function createIfMissing(clients: ClientWrites, clientId: string, build: () => Promise<ClientRecord>): Promise<void> {
  const current = await clients.read(clientId);
  if (current.record === null) await clients.commit(clientId, current.version, await build());
}
