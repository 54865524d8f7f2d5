/**
 * The peer: node-oidc-provider (npm `oidc-provider` 9.x) configured as a machine-to-machine token
 * service, equivalent to ours: `client_credentials` only, one client with
 * `token_endpoint_auth_method: private_key_jwt` and an ES256 key, JWT access tokens (RFC 9068,
 * `at+jwt`) signed ES256 for a default resource (features.resourceIndicators with
 * accessTokenFormat 'jwt'). Client assertion `jti`s are kept single-use by oidc-provider's
 * ReplayDetection model, stored through the adapter:
 *   - `memory`: oidc-provider's default in-process LRU (lost on restart, not shared between
 *     processes: no durable replay protection);
 *   - `redis`: a Redis adapter (ioredis) after oidc-provider's own example adapter, against a
 *     local redis-server — what durable replay protection costs it.
 *
 * Usage: node peer-oidc-provider.mjs '<json config>'
 *   { port, issuer, clientId, clientPublicJwk, serverPrivateJwk, resource, adapter: "memory"|"redis", redisPort? }
 * Prints one JSON line when listening: { port, pid }.
 */
import { createServer } from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);

let adapter;
let redis;
if (config.adapter === "redis") {
  const { default: Redis } = await import("ioredis");
  redis = new Redis({ host: "127.0.0.1", port: config.redisPort, keyPrefix: "oidc:", enableAutoPipelining: false });
  await redis.ping();
  adapter = redisAdapter(redis);
}

const provider = new Provider(config.issuer, {
  ...(adapter ? { adapter } : {}),
  clients: [
    {
      client_id: config.clientId,
      token_endpoint_auth_method: "private_key_jwt",
      token_endpoint_auth_signing_alg: "ES256",
      jwks: { keys: [config.clientPublicJwk] },
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      scope: "read write",
    },
  ],
  jwks: { keys: [config.serverPrivateJwk] },
  // The only server key is ES256 (the default, RS256, would need an RSA key).
  clientDefaults: { id_token_signed_response_alg: "ES256" },
  scopes: ["read", "write"],
  clientAuthMethods: ["private_key_jwt"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "read write",
        audience: config.resource,
        accessTokenTTL: 3600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
});
// Silence per-request error events (replay checks produce expected 401s).
provider.on("server_error", (_ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));

const server = createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: config.port, pid: process.pid })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  redis?.disconnect();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

/**
 * A Redis adapter for oidc-provider, after the example adapter in the oidc-provider repository
 * (example/adapters/redis.js): one key per model instance with a TTL; consumable models as hashes.
 */
function redisAdapter(client) {
  const grantable = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);
  const consumable = new Set(["AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);
  const grantKeyFor = (id) => `grant:${id}`;
  const userCodeKeyFor = (userCode) => `userCode:${userCode}`;
  const uidKeyFor = (uid) => `uid:${uid}`;

  return class RedisAdapter {
    constructor(name) {
      this.name = name;
    }

    key(id) {
      return `${this.name}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = client.multi();
      if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        const grantKey = grantKeyFor(payload.grantId);
        multi.rpush(grantKey, key);
        const ttl = await client.ttl(grantKey);
        if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
      }
      if (payload.userCode) {
        multi.set(userCodeKeyFor(payload.userCode), id);
        multi.expire(userCodeKeyFor(payload.userCode), expiresIn);
      }
      if (payload.uid) {
        multi.set(uidKeyFor(payload.uid), id);
        multi.expire(uidKeyFor(payload.uid), expiresIn);
      }
      await multi.exec();
    }

    async find(id) {
      const data = consumable.has(this.name) ? await client.hgetall(this.key(id)) : await client.get(this.key(id));
      if (!data || (typeof data === "object" && Object.keys(data).length === 0)) return undefined;
      if (typeof data === "string") return JSON.parse(data);
      const { payload, ...rest } = data;
      return { ...rest, ...JSON.parse(payload) };
    }

    async findByUid(uid) {
      const id = await client.get(uidKeyFor(uid));
      return this.find(id);
    }

    async findByUserCode(userCode) {
      const id = await client.get(userCodeKeyFor(userCode));
      return this.find(id);
    }

    async destroy(id) {
      await client.del(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const multi = client.multi();
      const tokens = await client.lrange(grantKeyFor(grantId), 0, -1);
      for (const token of tokens) multi.del(token);
      multi.del(grantKeyFor(grantId));
      await multi.exec();
    }

    async consume(id) {
      await client.hset(this.key(id), "consumed", Math.floor(Date.now() / 1000));
    }
  };
}
