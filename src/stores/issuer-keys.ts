/**
 * The public keys of trusted issuers (SPEC §9), found as the issuer record says: inline `jwks`, a
 * `jwks_uri`, OpenID discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`, the
 * document's `issuer` equal to the registered one), or a SPIFFE bundle endpoint (its `use:
 * "jwt-svid"` keys). Every fetch follows the rules of client `jwks_uri`s (remote-jwks.ts,
 * bounded-fetch.ts): HTTPS, size and time caps, no redirects, the same URL check; cached as
 * key-set-cache.ts says (the same rules as jwks_uri sets): a set is cached
 * for JWKS_CACHE_TTL_SECONDS, refetched at most every JWKS_REFETCH_MIN_INTERVAL_SECONDS on an
 * unknown `kid`, and a failure answers for itself for JWKS_FAILURE_BACKOFF_SECONDS. Failures are
 * `invalid_client` with a log line naming the problem, never a 500.
 */
import type { JWK } from "jose";
import type { TrustedIssuerRecord } from "../core/federation.js";
import { parseRemoteJwks } from "../core/jwk-set.js";
import type { IssuerKeySource } from "../core/key-sources.js";
import { BoundedFetchError, fetchTextBounded, type FetchLike } from "./bounded-fetch.js";
import { KeySetFailure, keySetCache } from "./key-set-cache.js";
import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_BYTES } from "./remote-jwks.js";
import { fetchUrlProblem, type AddressPolicy } from "../core/addresses.js";

export interface IssuerKeyOptions {
  /** Which URLs may be fetched: `http://` loopback ones in local dev only (src/local-dev.ts). */
  readonly addressPolicy: AddressPolicy;
  readonly fetch?: FetchLike;
  /** Milliseconds since the epoch. */
  readonly nowMs?: () => number;
}

/** An IssuerKeySource over the network, cached per isolate. */
export function issuerKeySource(options: IssuerKeyOptions): IssuerKeySource {
  const cache = keySetCache({ nowMs: options.nowMs ?? (() => Date.now()), unavailable: "federated_keys_unavailable" });
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const get = (uri: string, accept: string) =>
    fetchTextBounded(uri, fetchImpl, { maxBytes: JWKS_MAX_BYTES, timeoutMs: JWKS_FETCH_TIMEOUT_MS, accept }).catch((cause: unknown) => {
      if (!(cause instanceof BoundedFetchError)) throw cause;
      throw new KeySetFailure(cause.problem, cause.problem === "invalid_utf8" ? "federated_keys_invalid" : "federated_keys_unavailable");
    });
  const allowed = (uri: string) => {
    if (fetchUrlProblem(uri, options.addressPolicy) !== undefined) throw new KeySetFailure("uri_not_allowed", "federated_keys_unavailable");
    return uri;
  };

  async function load(issuer: TrustedIssuerRecord): Promise<readonly JWK[]> {
    if (issuer.spiffe_bundle_endpoint !== undefined) {
      return jwkSet(spiffeJwtKeys(await get(allowed(issuer.spiffe_bundle_endpoint), "application/json")));
    }
    let jwksUri = issuer.jwks_uri;
    if (jwksUri === undefined) {
      // OpenID Connect Discovery 1.0 §4: the document's issuer must be exactly the registered one.
      const document = parseObject(await get(allowed(`${issuer.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`), "application/json"));
      if (document?.issuer !== issuer.issuer) throw new KeySetFailure("discovery_issuer_mismatch", "federated_keys_invalid");
      if (typeof document.jwks_uri !== "string") throw new KeySetFailure("discovery_no_jwks_uri", "federated_keys_invalid");
      jwksUri = document.jwks_uri;
    }
    return jwkSet(await get(allowed(jwksUri), "application/jwk-set+json, application/json"));
  }

  return {
    async keysOf(issuer, refresh) {
      if (issuer.jwks !== undefined) return issuer.jwks.keys;
      const id = JSON.stringify([issuer.issuer, issuer.jwks_uri, issuer.spiffe_bundle_endpoint, issuer.discovery]);
      return cache.get(id, refresh, async (now) => ({ keys: await load(issuer), fetchedAt: now }), (failure) =>
        console.error(JSON.stringify({ event: "trusted_issuer_keys_unavailable", issuer: issuer.issuer, problem: failure.problem })),
      );
    },
  };
}

function jwkSet(text: string): readonly JWK[] {
  const parsed = parseRemoteJwks(text);
  if (!parsed.ok) throw new KeySetFailure(parsed.problem, "federated_keys_invalid");
  return parsed.keys;
}

/** SPIFFE Trust Domain and Bundle §4: JWT-SVID keys are the entries with `use: "jwt-svid"`. */
function spiffeJwtKeys(text: string): string {
  const document = parseObject(text);
  if (document === undefined || !Array.isArray(document.keys)) throw new KeySetFailure("not_a_spiffe_bundle", "federated_keys_invalid");
  const keys = document.keys
    .filter((key: unknown) => typeof key === "object" && key !== null && (key as { use?: unknown }).use === "jwt-svid")
    .map(({ use: _use, ...key }: Record<string, unknown>) => key);
  return JSON.stringify({ keys });
}

function parseObject(text: string): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
