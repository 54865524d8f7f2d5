/**
 * Arbitraries of the admin API fuzzer (test/fuzz/admin.test.ts): JWKs built from real public keys
 * with now and then a wrong, weak, private or random part, and registration metadata that is
 * consistent for its method with one or two fields made wrong about half the time.
 */
import fc from "fast-check";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { uniqueId } from "./helpers.js";
import { anyJson, base64urlText } from "./fuzz.js";

export const METHODS = ["private_key_jwt", "client_secret_jwt", "client_secret_basic", "client_secret_post"];

/** Real keys the JWK arbitrary starts from; call once (key generation is slow), before use. */
export interface FuzzKeys {
  rsa2048: JWK;
  rsa1024: JWK;
  ec: JWK;
  ed: JWK;
  ecPrivate: JWK;
}

export async function generateFuzzKeys(): Promise<FuzzKeys> {
  const pairOf = async (alg: string) => {
    const pair = await generateKeyPair(alg, { extractable: true });
    return { pub: await exportJWK(pair.publicKey), priv: await exportJWK(pair.privateKey) };
  };
  const ec = await pairOf("ES256");
  return { rsa2048: (await pairOf("RS256")).pub, rsa1024: await rsa1024PublicJwk(), ec: ec.pub, ed: (await pairOf("EdDSA")).pub, ecPrivate: ec.priv };
}

/** jose refuses to generate an RSA key under 2048 bits; WebCrypto does not. */
async function rsa1024PublicJwk(): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return exportJWK(pair.publicKey);
}

/** `arbitrary` about once in `odds` draws, else null. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, odds = 8) => fc.oneof({ weight: odds - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** A JWK: mostly a real public key, with now and then a wrong, weak, private or random part. */
const jwk = (keys: FuzzKeys) =>
  fc
    .record({
      base: fc.constantFrom("rsa2048", "ec", "ec", "ed", "rsa1024", "ecPrivate", "empty"),
      kid: fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, { weight: 1, arbitrary: fc.oneof(fc.constant(""), fc.string({ minLength: 250, maxLength: 300 }), anyJson) }),
      kty: rarely(fc.oneof(fc.constantFrom("RSA", "EC", "OKP", "oct", "rsa", ""), anyJson)),
      alg: rarely(fc.oneof(fc.constantFrom("RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519", "HS256", "none", "RSA-OAEP"), anyJson), 3),
      use: rarely(fc.oneof(fc.constantFrom("sig", "enc", "SIG"), anyJson), 3),
      key_ops: rarely(fc.oneof(fc.constantFrom(["verify"], ["sign"], ["encrypt"], []), anyJson)),
      n: rarely(fc.oneof(base64urlText, fc.constantFrom("AQAB", "", "A", "not base64!", "AAAA"), anyJson)),
      e: rarely(fc.oneof(fc.constantFrom("AQAB", "AA", ""), anyJson)),
      crv: rarely(fc.oneof(fc.constantFrom("P-256", "P-384", "P-521", "Ed25519", "X25519", "secp256k1"), anyJson)),
      x: rarely(fc.oneof(base64urlText, anyJson)),
      y: rarely(fc.oneof(base64urlText, anyJson)),
      d: rarely(base64urlText, 12),
      k: rarely(base64urlText, 12),
      extra: rarely(fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 2 }), 4),
    })
    .map(({ base, extra, ...overrides }) => {
      const out: Record<string, unknown> = { ...(extra ?? {}), ...(base === "empty" ? {} : keys[base as keyof typeof keys]) };
      for (const [name, value] of Object.entries(overrides)) if (value !== null) out[name] = value;
      return out;
    });

const validFields = (keys: FuzzKeys, method: string) => {
  const signingAlg =
    method === "private_key_jwt" ? fc.constantFrom("ES256", "RS256", "PS256", "EdDSA", "Ed25519") : method === "client_secret_jwt" ? fc.constantFrom("HS256", "HS384", "HS512") : fc.constant(undefined);
  return {
    client_id: fc.string({ maxLength: 10, unit: fc.constantFrom(..."abcXYZ019._~-") }).map((s) => `${uniqueId("fz")}${s}`),
    token_endpoint_auth_method: fc.constant(method),
    token_endpoint_auth_signing_alg: signingAlg,
    jwks: fc.record({ keys: fc.array(jwk(keys), { minLength: 1, maxLength: 3 }) }),
    jwks_uri: fc.constantFrom("https://keys.test/jwks.json", "https://keys.test:8443/a/b?c=d"),
    client_name: fc.string({ minLength: 1, maxLength: 30 }),
    scope: fc.constantFrom("read write", "", "read", "a:b c/d"),
    grant_types: fc.constant(["client_credentials"]),
    resources: fc.constantFrom(["https://api.test/"], [], ["urn:example:api"]),
    access_token_ttl: fc.constantFrom(60, 3600, 86_400),
    audience_mode: fc.constantFrom("compat", "strict"),
    dpop_bound_access_tokens: fc.boolean(),
    disabled: fc.boolean(),
  };
};

/** Wrong values per field: other types, out-of-range values, hostile strings. */
const WRONG: Record<string, fc.Arbitrary<unknown>> = {
  client_id: fc.oneof(fc.string({ unit: "binary", maxLength: 140 }), fc.constantFrom("", "a b", "../x", "x".repeat(129)), anyJson),
  token_endpoint_auth_method: fc.oneof(fc.constantFrom("none", "tls_client_auth", "", "PRIVATE_KEY_JWT"), anyJson),
  token_endpoint_auth_signing_alg: fc.oneof(fc.constantFrom("ES256", "RS256", "HS256", "HS512", "none", "EdDSA", "RSA-OAEP"), anyJson),
  jwks: fc.oneof(fc.record({ keys: anyJson }), fc.constant({ keys: [] }), anyJson),
  jwks_uri: fc.oneof(fc.constantFrom("http://keys.test/jwks.json", "https://", "file:///etc/passwd", "javascript:alert(1)", "//keys.test", `https://k.test/${"a".repeat(2100)}`), anyJson),
  client_name: fc.oneof(fc.constant(""), fc.string({ minLength: 201, maxLength: 220 }), anyJson),
  scope: fc.oneof(fc.constantFrom(" read", 'a"b', "a\\b", "read  write", "é", "read "), anyJson),
  grant_types: fc.oneof(fc.constantFrom([], ["authorization_code"], ["client_credentials", "password"]), anyJson),
  resources: fc.oneof(fc.constantFrom(["https://api.test/#f"], ["relative/path"], [""]), fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 3 }), anyJson),
  access_token_ttl: fc.oneof(fc.constantFrom(59, 86_401, 1.5, -1, 0, 1e308), anyJson),
  audience_mode: fc.oneof(fc.constantFrom("STRICT", "lax", ""), anyJson),
  dpop_bound_access_tokens: fc.oneof(fc.constantFrom("true", 1, 0), anyJson),
  disabled: fc.oneof(fc.constantFrom("false", 0, 1), anyJson),
  client_secret: fc.string({ maxLength: 20 }),
  unknown_field: anyJson,
};

/**
 * Registration metadata: consistent for a method, optional fields present or not, and in about
 * half of the cases one or two fields replaced by a wrong value (or a field dropped).
 */
export const metadata = (keys: FuzzKeys) =>
  fc
    .constantFrom(...METHODS, "omitted")
    .chain((method) => {
      const fields = validFields(keys, method === "omitted" ? "private_key_jwt" : method);
      const keyFields = method === "omitted" || method === "private_key_jwt" ? fc.constantFrom("jwks", "jwks", "jwks_uri") : fc.constant(null);
      return fc.record({
        method: fc.constant(method),
        keyField: keyFields,
        present: fc.record(
          {
            client_id: fields.client_id,
            token_endpoint_auth_signing_alg: fields.token_endpoint_auth_signing_alg,
            client_name: fields.client_name,
            scope: fields.scope,
            grant_types: fields.grant_types,
            resources: fields.resources,
            access_token_ttl: fields.access_token_ttl,
            audience_mode: fields.audience_mode,
            dpop_bound_access_tokens: fields.dpop_bound_access_tokens,
            disabled: fields.disabled,
          },
          { requiredKeys: ["client_id"] },
        ),
        jwks: fields.jwks,
        jwksUri: fields.jwks_uri,
        wrong: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.constantFrom(...Object.keys(WRONG)), fc.boolean()), { minLength: 1, maxLength: 2 })),
        wrongValues: fc.tuple(...Object.values(WRONG)),
      });
    })
    .map(({ method, keyField, present, jwks, jwksUri, wrong, wrongValues }) => {
      const out: Record<string, unknown> = { ...present };
      if (method !== "omitted") out.token_endpoint_auth_method = method;
      if (keyField === "jwks") out.jwks = jwks;
      if (keyField === "jwks_uri") out.jwks_uri = jwksUri;
      const names = Object.keys(WRONG);
      for (const [name, drop] of wrong) {
        if (drop) delete out[name];
        else out[name] = wrongValues[names.indexOf(name)];
      }
      return out;
    });

/** Metadata as JSON text, sometimes with a prototype-pollution attempt in front. */
export const metadataJson = (m: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(m, fc.boolean()).map(([value, pollute]) => {
    const text = JSON.stringify(value);
    return pollute ? `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}${text === "{}" ? "" : ","}${text.slice(1)}` : text;
  });
