/**
 * Trusted issuers' keys (stores/issuer-keys.ts): the jwks_uri fetch rules applied to discovery,
 * jwks_uri and SPIFFE bundle endpoints, with an injected fetch and clock.
 */
import { describe, expect, it, vi } from "vitest";
import type { TrustedIssuerRecord } from "../../src/core/federation.js";
import { OAuthError } from "../../src/core/errors.js";
import { PUBLIC_ADDRESSES } from "../../src/core/addresses.js";
import { issuerKeySource } from "../../src/stores/issuer-keys.js";
import { clientKeyPair, jwksHost } from "../jwks-host.js";

const record = (overrides: Partial<TrustedIssuerRecord>): TrustedIssuerRecord => ({
  issuer: "https://idp.example", allowed_algs: ["ES256"], max_token_lifetime: 3600, shared: false, jti_policy: "reuse", created_at: 0, updated_at: 0, ...overrides,
});
const reason = async (promise: Promise<unknown>) => promise.then(() => "ok", (err) => (err instanceof OAuthError ? err.reason : String(err)));

describe("issuer keys", () => {
  it("discovery: fetches the document then its jwks_uri, caches, refetches an unknown kid at most every 30 s", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const host = jwksHost();
    let now = 1_000_000;
    const key = await clientKeyPair("ES256");
    host.serve("https://idp.example/.well-known/openid-configuration", () => Response.json({ issuer: "https://idp.example", jwks_uri: "https://keys.idp.example/jwks" }));
    host.serveKeys("https://keys.idp.example/jwks", [key.publicJwk]);
    const source = issuerKeySource({ addressPolicy: PUBLIC_ADDRESSES, fetch: host.fetch, nowMs: () => now });
    const issuer = record({ discovery: true });
    expect((await source.keysOf(issuer, false)).map((k) => k.kid)).toEqual([key.kid]);
    await source.keysOf(issuer, false);
    await source.keysOf(issuer, true); // unknown kid, too soon: no fetch
    expect(host.count("https://keys.idp.example/jwks")).toBe(1);
    now += 30_001;
    await source.keysOf(issuer, true);
    expect(host.count("https://keys.idp.example/jwks")).toBe(2);
    vi.restoreAllMocks();
  });

  it("refuses a discovery document for another issuer, an http or redirecting URL, a private key", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const host = jwksHost();
    const key = await clientKeyPair("ES256");
    host.serve("https://a.example/.well-known/openid-configuration", () => Response.json({ issuer: "https://b.example", jwks_uri: "https://a.example/jwks" }));
    host.serveKeys("https://a.example/jwks", [key.publicJwk]);
    host.serve("https://c.example/jwks", () => new Response(null, { status: 302, headers: { Location: "https://a.example/jwks" } }));
    host.serveKeys("https://d.example/jwks", [key.privateJwk]);
    const source = issuerKeySource({ addressPolicy: PUBLIC_ADDRESSES, fetch: host.fetch });
    expect(await reason(source.keysOf(record({ issuer: "https://a.example", discovery: true }), false))).toBe("federated_keys_invalid");
    expect(await reason(source.keysOf(record({ jwks_uri: "http://a.example/jwks" }), false))).toBe("federated_keys_unavailable");
    expect(await reason(source.keysOf(record({ jwks_uri: "https://c.example/jwks" }), false))).toBe("federated_keys_unavailable");
    expect(await reason(source.keysOf(record({ jwks_uri: "https://d.example/jwks" }), false))).toBe("federated_keys_invalid");
    vi.restoreAllMocks();
  });

  it("a SPIFFE bundle yields its jwt-svid keys only", async () => {
    const host = jwksHost();
    const [jwt, x509] = [await clientKeyPair("ES256"), await clientKeyPair("ES256")];
    host.serve("https://spire.example/bundle", () => Response.json({ keys: [{ ...jwt.publicJwk, use: "jwt-svid" }, { ...x509.publicJwk, use: "x509-svid" }] }));
    const source = issuerKeySource({ addressPolicy: PUBLIC_ADDRESSES, fetch: host.fetch });
    const keys = await source.keysOf(record({ issuer: "spiffe://example.org", spiffe_bundle_endpoint: "https://spire.example/bundle" }), false);
    expect(keys.map((k) => k.kid)).toEqual([jwt.kid]);
  });
});
