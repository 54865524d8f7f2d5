/**
 * Everything a request needs, resolved once per isolate and origin: validated settings, the issuer,
 * the stores, and lazy access to secrets. Routes get a `ServerContext`; the oauth layer receives
 * only the parts it uses.
 */
import { systemClock, type Clock } from "./clock.js";
import { ConfigError, loadSettings, requireSecret, type SampleRouteMode, type Settings } from "./config.js";
import type { ClientAuthSettings } from "./oauth/client-auth/index.js";
import type { ClientKeySource } from "./oauth/client-auth/keys.js";
import { loadDpopNonces, type DpopNonces } from "./oauth/dpop-nonce.js";
import { devMaterial, ensureDemoClients, isLoopbackHost } from "./local-dev.js";
import { clientWriterStore, type ClientWrites } from "./stores/client-writer.js";
import { ClientRegistry } from "./stores/clients.js";
import { replayGuardRegistry, type JtiRegistry } from "./stores/replay-guard.js";
import { revocationList, type RevokedTokens } from "./stores/revocation-list.js";
import { loadSecretBox, type SecretBox } from "./stores/secret-box.js";
import { remoteJwksKeySource } from "./stores/remote-jwks.js";
import { loadSigningKeys, type SigningKeys } from "./stores/signing-keys.js";

export interface ServerContext {
  readonly settings: Settings;
  /** Issuer identifier: ISSUER, or the request origin for loopback requests in local dev. */
  readonly issuer: string;
  /** The request arrived on a loopback host: local-dev conveniences apply. */
  readonly localDev: boolean;
  readonly sampleRouteMode: SampleRouteMode;
  readonly clock: Clock;
  readonly clients: ClientRegistry;
  /** The writer of record for client registrations: every admin change goes through it. */
  readonly clientWriter: ClientWrites;
  readonly jtiRegistry: JtiRegistry;
  /** Revoked access token jtis (RFC 7009), read by introspection. */
  readonly revocations: RevokedTokens;
  /** Where client public keys come from (inline jwks, or jwks_uri). */
  readonly keySource: ClientKeySource;
  signingKeys(): Promise<SigningKeys>;
  secretBox(): Promise<SecretBox>;
  /** RFC 9449 §8 nonces, keyed by HKDF from CLIENT_SECRET_KEY (oauth/dpop-nonce.ts). */
  dpopNonces(): Promise<DpopNonces>;
  adminToken(): Promise<string>;
  /** Local dev only: demo clients exist after this resolves. No-op elsewhere. */
  ready(): Promise<void>;
}

const contexts = new WeakMap<object, Map<string, ServerContext>>();

/**
 * Per-request settings for client authentication at the endpoint `path` (token, introspect, revoke).
 * @param tokenPath at introspection and revocation, the token endpoint path whose URL compat mode
 *   also accepts as assertion `aud` (docs/token-lifecycle.md).
 */
export function clientAuthSettings(server: ServerContext, path: string, tokenPath?: string): ClientAuthSettings {
  return {
    now: server.clock(),
    issuer: server.issuer,
    endpointUrl: `${server.issuer}${path}`,
    compatAudiences: tokenPath === undefined ? [] : [`${server.issuer}${tokenPath}`],
    audienceMode: server.settings.audienceMode,
    clockSkewSeconds: server.settings.clockSkewSeconds,
    maxLifetimeSeconds: server.settings.assertionMaxLifetimeSeconds,
  };
}

/**
 * The context for a request to `url`, built once per isolate per origin.
 * @throws ConfigError naming the setting when the configuration is invalid or ISSUER is missing.
 */
export function serverContext(env: Env, url: URL): ServerContext {
  let byOrigin = contexts.get(env);
  if (!byOrigin) contexts.set(env, (byOrigin = new Map()));
  let context = byOrigin.get(url.origin);
  if (!context) {
    context = buildContext(env, url);
    if (byOrigin.size < 16) byOrigin.set(url.origin, context);
  }
  return context;
}

function buildContext(env: Env, url: URL): ServerContext {
  const settings = loadSettings(env);
  const localDev = isLoopbackHost(url.hostname);
  const issuer = settings.issuer ?? (localDev ? url.origin : undefined);
  if (issuer === undefined) throw new ConfigError("ISSUER", "is required outside local dev (set it in wrangler.toml [vars])");

  const secret = async (name: "ADMIN_TOKEN" | "SIGNING_KEYS" | "CLIENT_SECRET_KEY"): Promise<string> => {
    if (env[name] || !localDev) return requireSecret(env, name);
    const material = await devMaterial(env);
    if (name === "ADMIN_TOKEN") announceDevAdminToken(material.adminToken);
    return { ADMIN_TOKEN: material.adminToken, SIGNING_KEYS: material.signingKeys, CLIENT_SECRET_KEY: material.clientSecretKey }[name];
  };
  const clients = new ClientRegistry(env.CLIENTS);
  const clientWriter = clientWriterStore(env.CLIENT_WRITER, clients);
  const secretBox = async () => loadSecretBox(await secret("CLIENT_SECRET_KEY"));

  return {
    settings,
    issuer,
    localDev,
    sampleRouteMode: settings.sampleJwtRoute ?? (localDev ? "on" : "off"),
    clock: systemClock,
    clients,
    clientWriter,
    jtiRegistry: replayGuardRegistry(env.REPLAY_GUARD, settings.replayGuardLegacyShards, settings.replayGuardTimeoutMs),
    revocations: revocationList(env.REVOCATION_LIST),
    // http:// jwks_uri (loopback only) is fetched for local-dev requests only (SPEC §6, §8).
    keySource: remoteJwksKeySource({ allowLoopbackHttp: localDev }),
    signingKeys: async () => loadSigningKeys(await secret("SIGNING_KEYS")),
    secretBox,
    dpopNonces: async () => loadDpopNonces(await secret("CLIENT_SECRET_KEY")),
    adminToken: () => secret("ADMIN_TOKEN"),
    ready: () => (localDev ? ensureDemoClients(env, clientWriter, secretBox) : Promise.resolve()),
  };
}

let announced = false;
/** Plain `wrangler dev` without ADMIN_TOKEN: show the generated local token once per isolate. */
function announceDevAdminToken(token: string): void {
  if (announced) return;
  announced = true;
  console.log(`local dev: ADMIN_TOKEN is not set; the generated local admin token is ${token}`);
}
