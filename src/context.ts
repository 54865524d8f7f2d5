/**
 * Composition, resolved once per isolate and origin: validated settings and the issuer, what an
 * isolate holds (`Stores`, `SecretSource`), and what a route reads (`ServerContext`). Routes hand
 * the oauth layer only the parts a rule uses (`clientAuthDependencies` and its siblings).
 *
 * The deployment's parts are built here; local dev (src/local-dev.ts) is decided once, from the
 * whole configuration, and decorates them. Nothing else asks which mode it runs in.
 */
import { systemClock, type Clock } from "./clock.js";
import { ConfigError, loadSettings, MissingSecretError, requireSecret, type SampleRouteMode, type Settings } from "./config.js";
import { localDevApplies, outsideLocalDev, withLocalDev, type DeploymentParts, type LocalDevWalkthrough } from "./local-dev.js";
import type { ClientAuthDependencies, ClientAuthSettings } from "./oauth/client-auth/index.js";
import type { ClientKeySource } from "./core/key-sources.js";
import { loadDpopNonces } from "./oauth/dpop-nonce.js";
import type { DpopNonceSource } from "./core/dpop.js";
import { registryWrites, type ClientWrites, type RecordWrites } from "./stores/registry-writer.js";
import { ClientRegistry, type ClientLookup } from "./stores/clients.js";
import { replayGuardRegistry, type JtiRegistry } from "./stores/replay-guard.js";
import { revocationList, type RevokedTokens } from "./stores/revocation-list.js";
import { loadSecretBox, type SecretBox } from "./stores/secret-box.js";
import { remoteJwksKeySource } from "./stores/remote-jwks.js";
import { loadSigningKeys, type SigningKeys } from "./stores/signing-keys.js";
import type { RingSnapshot } from "./core/key-ring.js";
import type { JWK } from "jose";
import { keyRingStore, type RingRotation } from "./stores/key-ring.js";
import { loadKeyRingSeal } from "./stores/key-ring-seal.js";
import { ringSigningKeys } from "./stores/ring-signing-keys.js";
import type { TrustedIssuerRecord } from "./core/federation.js";
import { PUBLIC_ADDRESSES, type AddressPolicy } from "./core/addresses.js";
import { TrustedIssuerRegistry } from "./stores/trusted-issuers.js";
import { JwtBearerIndex } from "./stores/jwt-bearer-index.js";
import { issuerKeySource } from "./stores/issuer-keys.js";
import type { IssuerKeySource } from "./core/key-sources.js";
import type { TokenLifecycleDependencies } from "./oauth/presented-token.js";
import type { RegistrationChecks } from "./oauth/registration/input.js";
import type { TokenRequestDependencies } from "./oauth/token-request.js";
import { quotaCounters, type QuotaCounters } from "./stores/quota-counter.js";
import { auditTrail, type AuditTrail } from "./stores/audit-trail.js";

/**
 * What an isolate holds for one Worker configuration and origin: the stores, built once and
 * shared by every request (their caches live here).
 */
export interface Stores {
  readonly clients: ClientLookup;
  /** The writer of record for client registrations: every admin change goes through it. */
  readonly clientWriter: ClientWrites;
  readonly jtiRegistry: JtiRegistry;
  /** Revoked access token jtis (RFC 7009), read by introspection. */
  readonly revocations: RevokedTokens;
  /** Trusted issuers of federated client authentication (SPEC §9) and their writer of record. */
  readonly trustedIssuers: TrustedIssuerRegistry;
  readonly trustedIssuerWriter: RecordWrites<TrustedIssuerRecord>;
  /** Trusted issuers' public keys (discovery, jwks_uri, inline jwks, SPIFFE bundle endpoint). */
  readonly issuerKeys: IssuerKeySource;
  /** Where client public keys come from (inline jwks, or jwks_uri). */
  readonly keySource: ClientKeySource;
  /** Each client's counter: exact quota windows and the usage of tokens without a jti (SPEC §11). */
  readonly quotaCounters: QuotaCounters;
  /** One line (and, with `USAGE` bound, one data point) per token, introspection and revocation decision. */
  readonly audit: AuditTrail;
  /** The replay-guard namespace, for the usage report's reads (oauth/usage-report.ts). */
  readonly replayGuards: Env["REPLAY_GUARD"];
  /** SPEC §13: the clients with a jwt_bearer credential per issuer (kept by the client writer). */
  readonly jwtBearerIndex: JwtBearerIndex;
  /** The key ring (SPEC §12), or null when the signing keys are SIGNING_KEYS alone. */
  readonly keyRing: KeyRingAdmin | null;
}

/** What the admin API asks of the key ring; what it reads and changes, this isolate uses at once. */
export interface KeyRingAdmin {
  /** The ring now, read from its Durable Object. */
  status(): Promise<RingSnapshot>;
  rotate(removePrevious: boolean): Promise<RingRotation>;
  /** SIGNING_KEYS' public keys, published beside the ring's (none when it is not set). */
  operatorKeys(): Promise<readonly JWK[]>;
}

/**
 * The other half of what an isolate holds: the secrets, opened lazily on first use (Workers
 * refuse crypto at global scope). Local dev decorates the source, not its users (local-dev.ts).
 */
export interface SecretSource {
  signingKeys(): Promise<SigningKeys>;
  secretBox(): Promise<SecretBox>;
  /** RFC 9449 §8 nonces, keyed by HKDF from CLIENT_SECRET_KEY (oauth/dpop-nonce.ts). */
  dpopNonces(): Promise<DpopNonceSource>;
  adminToken(): Promise<string>;
}

/**
 * What a route reads: the configuration as decided once (settings, issuer, local-dev values), the
 * clock, and the isolate's stores and secrets. Routes hand the oauth layer only the parts a rule
 * uses (the `…Dependencies` functions below), never the whole context.
 */
export interface ServerContext {
  readonly settings: Settings;
  /** Issuer identifier: ISSUER, or in local dev without it the loopback origin (src/local-dev.ts). */
  readonly issuer: string;
  readonly sampleRouteMode: SampleRouteMode;
  /** The client GET /jwts shows without client_id and signs for any caller: local dev's demo client, else none. */
  readonly sampleDemoClientId: string | undefined;
  /** Which URLs may be registered and fetched: public https only, or loopback too in local dev. */
  readonly addressPolicy: AddressPolicy;
  readonly clock: Clock;
  /** GET /admin/local-dev in local dev; undefined (404) everywhere else. */
  readonly localDevWalkthrough: (() => Promise<LocalDevWalkthrough>) | undefined;
  readonly stores: Stores;
  readonly secrets: SecretSource;
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
 * The dependency bundles oauth calls take are derived from what the isolate holds, so they are
 * built once per ServerContext, not per request.
 */
function derivedOnce<T>(cache: WeakMap<ServerContext, T>, server: ServerContext, build: () => T): T {
  let value = cache.get(server);
  if (value === undefined) cache.set(server, (value = build()));
  return value;
}
const clientAuthBundles = new WeakMap<ServerContext, ClientAuthDependencies>();
const tokenRequestBundles = new WeakMap<ServerContext, TokenRequestDependencies>();
const tokenLifecycleBundles = new WeakMap<ServerContext, TokenLifecycleDependencies>();

/** What client authentication reads (token, introspection, revocation, the /jwts Basic check). */
export function clientAuthDependencies(server: ServerContext): ClientAuthDependencies {
  return derivedOnce(clientAuthBundles, server, () => {
    const { clients, jtiRegistry, keySource, trustedIssuers, issuerKeys } = server.stores;
    return { clients, jtiRegistry, keySource, trustedIssuers, issuerKeys, secretBox: server.secrets.secretBox };
  });
}

/** What the token endpoint reads: client authentication, the signing keys, DPoP nonces, and what the SPEC §13 grants read. */
export function tokenRequestDependencies(server: ServerContext): TokenRequestDependencies {
  return derivedOnce(tokenRequestBundles, server, () => ({
    ...clientAuthDependencies(server),
    signingKeys: server.secrets.signingKeys,
    dpopNonces: server.secrets.dpopNonces,
    quotaCounters: server.stores.quotaCounters,
    revocations: server.stores.revocations,
    jwtBearerClients: server.stores.jwtBearerIndex,
  }));
}

/** What introspection and revocation read: client authentication, the signing keys and the revocation list. */
export function tokenLifecycleDependencies(server: ServerContext): TokenLifecycleDependencies {
  return derivedOnce(tokenLifecycleBundles, server, () => ({ ...clientAuthDependencies(server), signingKeys: server.secrets.signingKeys, revocations: server.stores.revocations }));
}

/** What registration checks read beyond the body (oauth/registration/input.ts). */
export function registrationChecks(server: ServerContext): RegistrationChecks {
  return { trustedIssuers: server.stores.trustedIssuers, issuer: server.issuer, addressPolicy: server.addressPolicy };
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
  const clients = new ClientRegistry(env.CLIENTS);
  const jwtBearerIndex = new JwtBearerIndex(env.CLIENTS);
  const deployed: DeploymentParts = {
    issuer: settings.issuer,
    secret: async (name) => requireSecret(env, name),
    clients,
    // The writer updates the cache of the registry readers use (this one), after each commit, and
    // drops this isolate's JWT bearer index listings, which the commit may have changed.
    clientWriter: registryWrites(env.REGISTRY_WRITER, "client", {
      remember(id, record) {
        clients.remember(id, record);
        jwtBearerIndex.forget();
      },
    }),
    sampleRouteDefault: "off",
    sampleDemoClientId: undefined,
    addressPolicy: PUBLIC_ADDRESSES,
    walkthrough: undefined,
    keyRingSealing: "CLIENT_SECRET_KEY",
  };
  const localDev = localDevApplies(env, url);
  const parts = localDev ? withLocalDev(env, url, deployed, loadSecretBox) : outsideLocalDev(deployed);
  const issuer = parts.issuer;
  if (issuer === undefined) throw new ConfigError("ISSUER", "is required outside local dev (set it in wrangler.toml [vars])");
  // SPEC §8: http:// (to a loopback host, config.ts) is for local dev only.
  if (!localDev && !issuer.startsWith("https://")) {
    throw new ConfigError("ISSUER", "must be an https:// origin outside local dev (a Worker with SIGNING_KEYS or CLIENT_SECRET_KEY set is not local dev)");
  }
  const trustedIssuers = new TrustedIssuerRegistry(env.CLIENTS);
  const operatorKeys = async () => loadSigningKeys(await parts.secret("SIGNING_KEYS"));
  const ring = settings.keyRing === null ? null : keyRingParts(env, parts, settings, operatorKeys);

  const stores: Stores = {
    clients: parts.clients,
    clientWriter: parts.clientWriter,
    jtiRegistry: replayGuardRegistry(env.REPLAY_GUARD, settings.replayGuardTimeoutMs),
    revocations: revocationList(env.REVOCATION_LIST),
    // SPEC §6: shared-cache entries are authenticated under a key derived from CLIENT_SECRET_KEY.
    keySource: remoteJwksKeySource({ addressPolicy: parts.addressPolicy, sharedCacheSecret: () => parts.secret("CLIENT_SECRET_KEY") }),
    trustedIssuers,
    // The writer updates the cache of the registry readers use (this one), after each commit.
    trustedIssuerWriter: registryWrites(env.REGISTRY_WRITER, "trusted_issuer", trustedIssuers),
    // Trusted issuers' URLs follow the same rule as jwks_uri (SPEC §8: loopback http in local dev only).
    issuerKeys: issuerKeySource({ addressPolicy: parts.addressPolicy }),
    quotaCounters: quotaCounters(env.QUOTA_COUNTER, settings.replayGuardTimeoutMs),
    audit: auditTrail(env.USAGE),
    replayGuards: env.REPLAY_GUARD,
    jwtBearerIndex,
    keyRing: ring?.admin ?? null,
  };
  const secrets: SecretSource = {
    signingKeys: ring === null ? operatorKeys : ring.signingKeys,
    secretBox: async () => loadSecretBox(await parts.secret("CLIENT_SECRET_KEY")),
    dpopNonces: async () => loadDpopNonces(await parts.secret("CLIENT_SECRET_KEY")),
    adminToken: () => parts.secret("ADMIN_TOKEN"),
  };
  return {
    settings,
    issuer,
    sampleRouteMode: settings.sampleJwtRoute ?? parts.sampleRouteDefault,
    sampleDemoClientId: parts.sampleDemoClientId,
    addressPolicy: parts.addressPolicy,
    clock: systemClock,
    localDevWalkthrough: parts.walkthrough,
    stores,
    secrets,
  };
}

/**
 * SIGNING_KEY_ROTATION = "auto": the signing keys come from the key ring (SPEC §12), cached in this
 * isolate within the ring's horizon; SIGNING_KEYS, when set, stays published beside them.
 */
function keyRingParts(env: Env, parts: DeploymentParts, settings: Settings, operatorKeys: () => Promise<SigningKeys>) {
  const schedule = settings.keyRing!;
  const store = keyRingStore(env.SIGNING_KEY_RING, { schedule, sealing: parts.keyRingSealing });
  const publishedOperatorKeys = () =>
    operatorKeys().catch((err: unknown) => {
      // Not set is fine here; set but unusable still fails closed, naming SIGNING_KEYS.
      if (err instanceof MissingSecretError) return undefined;
      throw err;
    });
  const keys = ringSigningKeys({
    ring: store,
    schedule,
    seal: async () => loadKeyRingSeal(await parts.secret("CLIENT_SECRET_KEY")),
    operatorKeys: publishedOperatorKeys,
    maxTokenLifetimeSeconds: schedule.retainSeconds - settings.clockSkewSeconds,
    clock: systemClock,
  });
  const admin: KeyRingAdmin = {
    async status() {
      const snapshot = await store.snapshot();
      keys.adopt(snapshot);
      return snapshot;
    },
    async rotate(removePrevious) {
      const rotation = await store.rotate(removePrevious);
      keys.adopt(rotation.snapshot);
      return rotation;
    },
    operatorKeys: async () => (await publishedOperatorKeys())?.publicJwks.keys ?? [],
  };
  return { signingKeys: () => keys.current(), admin };
}
