import { exportJWK, generateKeyPair } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OAuthError } from "../../src/core/errors.js";
import { LOCAL_DEV_ADDRESSES, PUBLIC_ADDRESSES } from "../../src/core/addresses.js";
import type { ClientRecord } from "../../src/core/client-record.js";
import {
  JWKS_CACHE_TTL_SECONDS,
  JWKS_FAILURE_BACKOFF_SECONDS,
  JWKS_REFETCH_MIN_INTERVAL_SECONDS,
  remoteJwksKeySource,
  type RemoteJwksOptions,
} from "../../src/stores/remote-jwks.js";
import { sharedKeySetCache } from "../../src/stores/shared-key-set-cache.js";
import { clientKeyPair, hugeBody, jwksHost, stalledBody } from "../support/jwks-host.js";

/** The secret this Worker's cache entries are authenticated under (CLIENT_SECRET_KEY in production). */
const SECRET = "c2VjcmV0LWtleS1mb3ItdGhlLWp3a3MtY2FjaGUtdHM";

let counter = 0;
function remoteClient(uri = `https://keys${++counter}.example/jwks.json`): ClientRecord {
  return {
    client_id: `remote-${counter}-${crypto.randomUUID().slice(0, 6)}`,
    token_endpoint_auth_method: "private_key_jwt",
    jwks_uri: uri,
    scope: "",
    grant_types: ["client_credentials"],
    resources: [],
    dpop_bound_access_tokens: false,
    disabled: false,
    created_at: 0,
    replay_guard_shards: 1,
    updated_at: 0,
  };
}

/** A key source over a fake host and a clock the test moves. */
function setup(options: Partial<RemoteJwksOptions> = {}) {
  const host = jwksHost();
  const clock = { ms: 1_700_000_000_000 };
  const source = remoteJwksKeySource({ addressPolicy: PUBLIC_ADDRESSES, fetch: host.fetch, nowMs: () => clock.ms, sharedCache: async () => null, ...options });
  const advance = (seconds: number) => (clock.ms += seconds * 1000);
  return { host, clock, source, advance };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(err)}`);
  expect(err.error).toBe("invalid_client");
  return err.reason;
}

afterEach(() => vi.restoreAllMocks());

describe("remote jwks_uri key source", () => {
  it("serves inline jwks unchanged and never fetches for them", async () => {
    const { host, source } = setup();
    const key = await clientKeyPair();
    const client: ClientRecord = { ...remoteClient(), jwks: { keys: [key.publicJwk] } };
    delete client.jwks_uri;
    expect(await source.keysOf(client, false)).toEqual([key.publicJwk]);
    expect(host.requests).toEqual([]);
  });

  it("fetches once, caches for the TTL, then fetches again", async () => {
    const { host, source, advance } = setup();
    const client = remoteClient();
    const key = await clientKeyPair();
    host.serveKeys(client.jwks_uri!, [key.publicJwk]);
    expect(await source.keysOf(client, false)).toEqual([key.publicJwk]);
    advance(JWKS_CACHE_TTL_SECONDS - 1);
    await source.keysOf(client, false);
    expect(host.count(client.jwks_uri!)).toBe(1);
    advance(2);
    await source.keysOf(client, false);
    expect(host.count(client.jwks_uri!)).toBe(2);
  });

  it("sends one request for concurrent first uses", async () => {
    const { host, source } = setup();
    const client = remoteClient();
    host.serveKeys(client.jwks_uri!, [(await clientKeyPair()).publicJwk]);
    await Promise.all(Array.from({ length: 5 }, () => source.keysOf(client, false)));
    expect(host.count(client.jwks_uri!)).toBe(1);
  });

  it("picks up a rolled-over key on an unknown kid, at most every 30 s per client", async () => {
    const { host, source, advance } = setup();
    const client = remoteClient();
    const [oldKey, newKey] = [await clientKeyPair(), await clientKeyPair()];
    host.serveKeys(client.jwks_uri!, [oldKey.publicJwk]);
    await source.keysOf(client, false);

    // The client publishes its next key and starts using it right away.
    host.serveKeys(client.jwks_uri!, [oldKey.publicJwk, newKey.publicJwk]);
    advance(JWKS_REFETCH_MIN_INTERVAL_SECONDS - 1);
    expect((await source.keysOf(client, true)).map((k) => k.kid)).toEqual([oldKey.kid]);
    expect(host.count(client.jwks_uri!)).toBe(1);

    advance(1);
    expect((await source.keysOf(client, true)).map((k) => k.kid)).toEqual([oldKey.kid, newKey.kid]);
    expect(host.count(client.jwks_uri!)).toBe(2);
    // A flood of made-up kids right after costs no further fetch.
    for (let i = 0; i < 20; i++) await source.keysOf(client, true);
    expect(host.count(client.jwks_uri!)).toBe(2);
  });

  it("keeps its fresh set when a refetch fails", async () => {
    const { host, source, advance } = setup();
    const client = remoteClient();
    const key = await clientKeyPair();
    host.serveKeys(client.jwks_uri!, [key.publicJwk]);
    await source.keysOf(client, false);
    host.serve(client.jwks_uri!, () => new Response("down", { status: 503 }));
    advance(JWKS_REFETCH_MIN_INTERVAL_SECONDS);
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await source.keysOf(client, true)).toEqual([key.publicJwk]);
  });

  it("remembers a failure for a few seconds, then tries again", async () => {
    const { host, source, advance } = setup();
    const client = remoteClient();
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    host.serve(client.jwks_uri!, () => new Response("nope", { status: 500 }));
    expect(await failure(source.keysOf(client, false))).toBe("assertion_jwks_unavailable");
    expect(JSON.parse(String(log.mock.calls[0]![0]))).toMatchObject({ event: "client_jwks_unavailable", client_id: client.client_id, problem: "status_500" });
    host.serveKeys(client.jwks_uri!, [(await clientKeyPair()).publicJwk]);
    expect(await failure(source.keysOf(client, false))).toBe("assertion_jwks_unavailable");
    expect(host.count(client.jwks_uri!)).toBe(1);
    advance(JWKS_FAILURE_BACKOFF_SECONDS);
    expect(await source.keysOf(client, false)).toHaveLength(1);
  });

  it("shares fetched sets between isolates through the Cache API", async () => {
    const cache = await caches.open(`jwks-test-${crypto.randomUUID()}`);
    const first = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
    const second = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
    second.clock.ms = first.clock.ms;
    const client = remoteClient();
    const key = await clientKeyPair();
    first.host.serveKeys(client.jwks_uri!, [key.publicJwk]);
    await first.source.keysOf(client, false);
    expect(await second.source.keysOf(client, false)).toEqual([key.publicJwk]);
    expect(second.host.requests).toEqual([]);
    // An expired shared entry is not used.
    const other = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
    other.clock.ms = first.clock.ms + JWKS_CACHE_TTL_SECONDS * 1000;
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await failure(other.source.keysOf(client, false))).toBe("assertion_jwks_unavailable");
    expect(other.host.requests).toEqual([client.jwks_uri]);
  });
});

describe("remote jwks_uri: a key set in the shared Cache API is used only if this Worker wrote it (SPEC §6, issue 18)", () => {
  /** What another Worker on the zone can write into the shared cache: any body and headers under the key this one reads. */
  async function forge(cache: Cache, client: ClientRecord, keys: unknown[], headers: Record<string, string>) {
    const cacheKey = `https://client-jwks.cache.invalid/v1/${encodeURIComponent(client.client_id)}?uri=${encodeURIComponent(client.jwks_uri!)}`;
    await cache.put(cacheKey, new Response(JSON.stringify({ keys }), { headers: { "Content-Type": "application/json", "Cache-Control": "max-age=300", ...headers } }));
  }

  it("a forged entry (valid keys, fresh, without or with a wrong MAC) is ignored: the set is fetched", async () => {
    const cache = await caches.open(`jwks-forged-${crypto.randomUUID()}`);
    const { host, source, clock } = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
    const client = remoteClient();
    const real = await clientKeyPair();
    const attacker = await clientKeyPair();
    host.serveKeys(client.jwks_uri!, [real.publicJwk]);
    const forgedHeaders: Array<Record<string, string>> = [{ "X-Fetched-At": String(clock.ms) }, { "X-Fetched-At": String(clock.ms), "X-Key-Set-Mac": "A".repeat(43) }];
    for (const headers of forgedHeaders) {
      await forge(cache, client, [{ ...attacker.publicJwk, kid: real.publicJwk.kid }], headers);
      const fresh = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET, fetch: host.fetch });
      fresh.clock.ms = clock.ms;
      expect(await fresh.source.keysOf(client, false)).toEqual([real.publicJwk]);
    }
    expect(await source.keysOf(client, false)).toEqual([real.publicJwk]);
  });

  it("an entry another Worker wrote under its own secret is not used either; without a secret the shared cache is not used", async () => {
    const cache = await caches.open(`jwks-other-${crypto.randomUUID()}`);
    const other = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => "another-workers-secret-value-000" });
    const client = remoteClient();
    const theirs = await clientKeyPair();
    other.host.serveKeys(client.jwks_uri!, [theirs.publicJwk]);
    await other.source.keysOf(client, false);
    const mine = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
    mine.clock.ms = other.clock.ms;
    const real = await clientKeyPair();
    mine.host.serveKeys(client.jwks_uri!, [real.publicJwk]);
    expect(await mine.source.keysOf(client, false)).toEqual([real.publicJwk]);
    expect(mine.host.requests).toEqual([client.jwks_uri]);
    const noSecret = setup({ sharedCache: async () => cache });
    noSecret.clock.ms = other.clock.ms;
    noSecret.host.serveKeys(client.jwks_uri!, [real.publicJwk]);
    expect(await noSecret.source.keysOf(client, false)).toEqual([real.publicJwk]);
    expect(noSecret.host.requests).toEqual([client.jwks_uri]);
  });
});

describe("the shared key-set cache's tag covers the cache key and the fetch time (SPEC §6)", () => {
  it("a genuinely tagged entry moved under another cache key, or given a later fetch time, is a miss", async () => {
    const cache = await caches.open(`jwks-binding-${crypto.randomUUID()}`);
    const shared = sharedKeySetCache({ cache: async () => cache, secret: async () => SECRET });
    const key = await clientKeyPair();
    const now = Date.now();
    const keyOfA = "https://client-jwks.cache.invalid/v1/client-a?uri=https%3A%2F%2Fa.example%2Fjwks.json";
    const keyOfB = "https://client-jwks.cache.invalid/v1/client-b?uri=https%3A%2F%2Fb.example%2Fjwks.json";
    await shared.write(keyOfA, [key.publicJwk] as never, now);
    expect(await shared.read(keyOfA, now + 1000)).toEqual({ keys: [key.publicJwk], fetchedAt: now });

    const copy = async (headers: Record<string, string> = {}) => {
      const original = (await cache.match(keyOfA))!;
      return new Response(await original.text(), { headers: { ...Object.fromEntries(original.headers), ...headers } });
    };
    // Client A's set, with A's valid tag, under client B's cache key: B never gets A's keys.
    await cache.put(keyOfB, await copy());
    expect(await shared.read(keyOfB, now + 1000)).toBeNull();
    // The same entry with a later fetch time, to live past its TTL: the tag no longer matches.
    await cache.put(keyOfA, await copy({ "X-Fetched-At": String(now + 60_000) }));
    expect(await shared.read(keyOfA, now + 61_000)).toBeNull();
  });
});

describe("remote jwks_uri: what comes back from the Cache API is validated again, even under this Worker's own tag (SPEC §6)", () => {
  const poisoned: Array<[string, (publicJwk: Record<string, unknown>) => unknown[]]> = [
    ["private key material", (jwk) => [{ ...jwk, d: "AAAA" }]],
    ["a key without kid", (jwk) => [{ ...jwk, kid: undefined }]],
    ["not a JWK Set", () => "nope" as unknown as unknown[]],
    ["an RSA key under 2048 bits", () => [{ kty: "RSA", kid: "weak", n: "AQAB", e: "AQAB" }]],
  ];
  for (const [what, keys] of poisoned) {
    it(`a cached set with ${what} is not used: the set is fetched again`, async () => {
      const cache = await caches.open(`jwks-poison-${crypto.randomUUID()}`);
      const { host, source, clock } = setup({ sharedCache: async () => cache, sharedCacheSecret: async () => SECRET });
      const client = remoteClient();
      const key = await clientKeyPair();
      const cacheKey = `https://client-jwks.cache.invalid/v1/${encodeURIComponent(client.client_id)}?uri=${encodeURIComponent(client.jwks_uri!)}`;
      // Written with this Worker's own tag (an older version of it, say): still checked as when fetched.
      await sharedKeySetCache({ cache: async () => cache, secret: async () => SECRET }).write(cacheKey, keys(key.publicJwk as Record<string, unknown>) as never, clock.ms);
      host.serveKeys(client.jwks_uri!, [key.publicJwk]);
      expect(await source.keysOf(client, false)).toEqual([key.publicJwk]);
      expect(host.requests).toEqual([client.jwks_uri]);
    });
  }
});

describe("remote jwks_uri: hostile or broken hosts", () => {
  const cases: Array<[string, () => Response, string]> = [
    ["invalid JSON", () => new Response("{not json"), "assertion_jwks_invalid"],
    ["a JSON array", () => Response.json([]), "assertion_jwks_invalid"],
    ["no keys array", () => Response.json({ keys: "x" }), "assertion_jwks_invalid"],
    ["an empty set", () => Response.json({ keys: [] }), "assertion_jwks_invalid"],
    ["invalid UTF-8", () => new Response(new Uint8Array([0x7b, 0xff, 0x7d])), "assertion_jwks_invalid"],
    ["a 404", () => new Response("not found", { status: 404 }), "assertion_jwks_unavailable"],
    ["a redirect to another host", () => new Response(null, { status: 302, headers: { Location: "https://evil.example/jwks.json" } }), "assertion_jwks_unavailable"],
    ["a declared size over 64 KiB", () => new Response("{}", { headers: { "Content-Length": String(1 << 20) } }), "assertion_jwks_unavailable"],
    ["a streamed body over 64 KiB", () => new Response(hugeBody(200 * 1024)), "assertion_jwks_unavailable"],
  ];
  for (const [name, respond, reason] of cases) {
    it(`fails closed with ${reason} on ${name}`, async () => {
      const { host, source } = setup();
      vi.spyOn(console, "error").mockImplementation(() => {});
      const client = remoteClient();
      host.serve(client.jwks_uri!, respond);
      expect(await failure(source.keysOf(client, false))).toBe(reason);
    });
  }

  it("gives up on a host that never answers, or never finishes the body", async () => {
    const { host, source } = setup({ timeoutMs: 50 });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const silent = remoteClient();
    host.serve(silent.jwks_uri!, () => new Promise<Response>(() => {}));
    const stalled = remoteClient();
    host.serve(stalled.jwks_uri!, () => new Response(stalledBody()));
    const started = Date.now();
    expect(await failure(source.keysOf(silent, false))).toBe("assertion_jwks_unavailable");
    expect(await failure(source.keysOf(stalled, false))).toBe("assertion_jwks_unavailable");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("refuses the whole set when any key carries private key material", async () => {
    const { host, source } = setup();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const client = remoteClient();
    const good = await clientKeyPair();
    const leaked = await clientKeyPair();
    host.serveKeys(client.jwks_uri!, [good.publicJwk, leaked.privateJwk]);
    expect(await failure(source.keysOf(client, false))).toBe("assertion_jwks_invalid");
    const symmetric = remoteClient();
    host.serveKeys(symmetric.jwks_uri!, [good.publicJwk, { kty: "oct", kid: "hmac", k: "c2VjcmV0" }]);
    expect(await failure(source.keysOf(symmetric, false))).toBe("assertion_jwks_invalid");
  });

  it("ignores keys without kid, encryption keys and RSA under 2048 bits, keeping the usable ones", async () => {
    const { host, source } = setup();
    const client = remoteClient();
    const good = await clientKeyPair("ES256");
    const { kid: _kid, ...kidless } = (await clientKeyPair()).publicJwk;
    const weak = await generateKeyPair("RS256", { extractable: true, modulusLength: 1024 }).catch(() => null);
    const weakJwk = weak ? { ...(await exportJWK(weak.publicKey)), kid: "weak" } : { kty: "RSA", kid: "weak", n: "AQAB", e: "AQAB" };
    const encryption = { ...(await clientKeyPair()).publicJwk, use: "enc", kid: "enc" };
    host.serveKeys(client.jwks_uri!, [kidless, weakJwk, encryption, good.publicJwk, { kty: "EC", kid: "broken" }]);
    expect((await source.keysOf(client, false)).map((k) => k.kid)).toEqual([good.kid]);

    // Nothing usable left: invalid.
    const onlyKidless = remoteClient();
    host.serveKeys(onlyKidless.jwks_uri!, [kidless]);
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await failure(source.keysOf(onlyKidless, false))).toBe("assertion_jwks_invalid");
  });

  it("refuses more than 100 keys", async () => {
    const { host, source } = setup();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const client = remoteClient();
    const key = (await clientKeyPair()).publicJwk;
    host.serveKeys(client.jwks_uri!, Array.from({ length: 101 }, (_, i) => ({ ...key, kid: `k${i}` })));
    expect(await failure(source.keysOf(client, false))).toBe("assertion_jwks_invalid");
  });

  it("fetches loopback URLs only in local dev (the address rules: test/core/addresses.test.ts)", async () => {
    const deployed = setup();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const client = remoteClient("http://127.0.0.1:9000/jwks.json");
    deployed.host.serveKeys(client.jwks_uri!, [(await clientKeyPair()).publicJwk]);
    expect(await failure(deployed.source.keysOf(client, false))).toBe("assertion_jwks_uri_not_allowed");
    expect(deployed.host.requests).toEqual([]);

    const local = setup({ addressPolicy: LOCAL_DEV_ADDRESSES });
    local.host.serveKeys(client.jwks_uri!, [(await clientKeyPair()).publicJwk]);
    expect(await local.source.keysOf(client, false)).toHaveLength(1);
  });

  it("asks for the set without following redirects, with an abort signal", async () => {
    const { host } = setup();
    const client = remoteClient();
    let seen: RequestInit | undefined;
    const inner = host.fetch;
    host.serveKeys(client.jwks_uri!, [(await clientKeyPair()).publicJwk]);
    const spying = remoteJwksKeySource({ addressPolicy: PUBLIC_ADDRESSES, sharedCache: async () => null, fetch: (input, init) => ((seen = init), inner(input, init)) });
    await spying.keysOf(client, false);
    expect(seen).toMatchObject({ method: "GET", redirect: "manual" });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
  });
});
