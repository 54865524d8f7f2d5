/**
 * Fuzz: the client management API (SPEC §6) with hostile JSON bodies, JWKs, paths and headers.
 * Never a 5xx; every refusal is JSON with `error` and `error_description` and no-store; and what
 * it does accept keeps the registry's invariants (no private or weak keys, HTTPS jwks_uri, a
 * secret exactly for secret methods), so an accepted record never breaks the token endpoint.
 */
import fc from "fast-check";
import { base64url, exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, JWT_BEARER, uniqueId } from "../helpers.js";
import { anyJson, base64urlText, checkResponse, fetchWorker, fuzzRuns, headerText, postFormBody, quietWorkerLogs } from "./fuzz-support.js";

quietWorkerLogs();

/** SPEC §6 / src/http/limits.ts: admin JSON bodies above 64 KiB are 413. */
const ADMIN_BODY_LIMIT_BYTES = 64 * 1024;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const METHODS = ["private_key_jwt", "client_secret_jwt", "client_secret_basic", "client_secret_post"];

function adminFetch(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetchWorker(path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body,
  });
}

let keys: { rsa2048: JWK; rsa1024: JWK; ec: JWK; ed: JWK; ecPrivate: JWK };
beforeAll(async () => {
  const publicOf = async (alg: string, modulusLength?: number) => {
    const pair = await generateKeyPair(alg, { extractable: true, ...(modulusLength ? { modulusLength } : {}) });
    return { pub: await exportJWK(pair.publicKey), priv: await exportJWK(pair.privateKey) };
  };
  const ec = await publicOf("ES256");
  keys = {
    rsa2048: (await publicOf("RS256", 2048)).pub,
    // jose refuses to generate one; WebCrypto does not.
    rsa1024: await rsa1024PublicJwk(),
    ec: ec.pub,
    ed: (await publicOf("EdDSA")).pub,
    ecPrivate: ec.priv,
  };
});

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
const jwk = () =>
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

const validFields = (method: string) => {
  const signingAlg =
    method === "private_key_jwt" ? fc.constantFrom("ES256", "RS256", "PS256", "EdDSA", "Ed25519") : method === "client_secret_jwt" ? fc.constantFrom("HS256", "HS384", "HS512") : fc.constant(undefined);
  return {
    client_id: fc.string({ maxLength: 10, unit: fc.constantFrom(..."abcXYZ019._~-") }).map((s) => `${uniqueId("fz")}${s}`),
    token_endpoint_auth_method: fc.constant(method),
    token_endpoint_auth_signing_alg: signingAlg,
    jwks: fc.record({ keys: fc.array(jwk(), { minLength: 1, maxLength: 3 }) }),
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
const metadata = () =>
  fc
    .constantFrom(...METHODS, "omitted")
    .chain((method) => {
      const fields = validFields(method === "omitted" ? "private_key_jwt" : method);
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
const metadataJson = (m: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(m, fc.boolean()).map(([value, pollute]) => {
    const text = JSON.stringify(value);
    return pollute ? `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}${text === "{}" ? "" : ","}${text.slice(1)}` : text;
  });

/** What an accepted client may look like, whatever was sent. */
function expectRegistryInvariants(info: Record<string, any>): void {
  expect(info).not.toHaveProperty("client_secret_sealed");
  expect(METHODS).toContain(info.token_endpoint_auth_method);
  expect(typeof info.client_id).toBe("string");
  expect(info.client_id).toMatch(/^[A-Za-z0-9._~-]{1,128}$/);
  if (info.token_endpoint_auth_method === "private_key_jwt") {
    expect((info.jwks === undefined) !== (info.jwks_uri === undefined), JSON.stringify(info)).toBe(true);
  } else {
    expect(info.jwks).toBeUndefined();
    expect(info.jwks_uri).toBeUndefined();
  }
  if (info.jwks_uri !== undefined) expect(new URL(info.jwks_uri).protocol).toBe("https:");
  for (const key of (info.jwks?.keys ?? []) as Record<string, unknown>[]) {
    for (const member of PRIVATE_MEMBERS) expect(key, `private member ${member} stored`).not.toHaveProperty(member);
    if (key.kty === "RSA") expect(base64url.decode(String(key.n)).length * 8, "weak RSA key stored").toBeGreaterThanOrEqual(2048 - 7);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/** An accepted client must not break the token endpoint either: garbage credentials are 4xx. */
async function expectTokenEndpointHolds(info: Record<string, any>): Promise<void> {
  const method = info.token_endpoint_auth_method as string;
  const form: Record<string, string> = { grant_type: "client_credentials", client_id: info.client_id };
  const headers: Record<string, string> = {};
  if (method === "private_key_jwt" || method === "client_secret_jwt") {
    Object.assign(form, { client_assertion_type: JWT_BEARER, client_assertion: "eyJhbGciOiJFUzI1NiJ9.e30.AAAA" });
  } else if (method === "client_secret_basic") {
    delete form.client_id;
    headers.Authorization = `Basic ${btoa(`${info.client_id}:wrong`)}`;
  } else {
    form.client_secret = "wrong";
  }
  const checked = await checkResponse(await postFormBody("/oauth2/token", form, headers), { triedBasic: "Authorization" in headers });
  expect([400, 401]).toContain(checked.status);
}

describe("fuzz: client management API", () => {
  it("registration: any JSON body gets 201 with a sound record, or a JSON error; never a 5xx", async () => {
    const body = fc.oneof({ weight: 4, arbitrary: metadataJson(metadata()) }, { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) });
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const checked = await checkResponse(await adminFetch("POST", "/admin/clients", input));
        expect([201, 400, 409], JSON.stringify(checked.body)).toContain(checked.status);
        if (checked.status !== 201) {
          expect(["invalid_client_metadata", "conflict"]).toContain(checked.body.error);
          return;
        }
        expectRegistryInvariants(checked.body);
        // A secret exactly for the secret methods, shown once, at least 256 bits.
        if (checked.body.token_endpoint_auth_method === "private_key_jwt") expect(checked.body.client_secret).toBeUndefined();
        else expect(String(checked.body.client_secret).length).toBeGreaterThanOrEqual(43);
        const stored = await checkResponse(await adminFetch("GET", `/admin/clients/${encodeURIComponent(String(checked.body.client_id))}`));
        expect(stored.status).toBe(200);
        expect(stored.body.client_secret).toBeUndefined();
        expectRegistryInvariants(stored.body);
        await expectTokenEndpointHolds(checked.body);
      }),
      fuzzRuns(150, 30),
    );
  });

  it("updates: any JSON PATCH on an existing client leaves a sound record", async () => {
    const created = await checkResponse(
      await adminFetch("POST", "/admin/clients", JSON.stringify({ client_id: uniqueId("fz-patch"), jwks: { keys: [{ ...keys.ec, kid: "k1", alg: "ES256" }] }, scope: "read" })),
    );
    expect(created.status).toBe(201);
    const path = `/admin/clients/${created.body.client_id}`;
    const patch = fc.oneof(
      { weight: 4, arbitrary: metadataJson(metadata().map(({ client_id: _id, token_endpoint_auth_method: _m, ...rest }) => rest)) },
      { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    );
    await fc.assert(
      fc.asyncProperty(patch, async (input) => {
        const checked = await checkResponse(await adminFetch("PATCH", path, input));
        expect([200, 400], JSON.stringify(checked.body)).toContain(checked.status);
        const stored = await checkResponse(await adminFetch("GET", path));
        expect(stored.status).toBe(200);
        expectRegistryInvariants(stored.body);
        await expectTokenEndpointHolds(stored.body);
      }),
      fuzzRuns(100, 31),
    );
  });

  it("paths, methods, headers and raw bodies: JSON errors, never a 5xx", async () => {
    const idSegment = fc.oneof(
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom("%FF", "%C3%28", "%ED%A0%80", "%", "%2F", "..", ".", "%00", "a%2Fb", "%E2%82"),
      fc.string({ unit: "grapheme", minLength: 100, maxLength: 250 }).map(encodeURIComponent),
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
      path: fc.oneof(
        idSegment.map((id) => `/admin/clients/${id}`),
        idSegment.map((id) => `/admin/clients/${id}/secret`),
        fc.constantFrom("/admin/clients", "/admin/clients?limit=-1", "/admin/clients?limit=abc&cursor=%FF", "/admin/clients?cursor=garbage", "/admin/", "/admin/clients/", "/admin/local-dev"),
      ),
      contentType: fc.option(fc.oneof(fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""), headerText)),
      authorization: fc.oneof(
        { weight: 5, arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`) },
        { weight: 1, arbitrary: fc.constantFrom(`Bearer ${ADMIN_TOKEN}x`, `bearer ${ADMIN_TOKEN}`, `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`, "Bearer", "", `Bearer  ${ADMIN_TOKEN} `) },
        { weight: 1, arbitrary: headerText },
      ),
      body: fc.oneof(
        fc.string({ maxLength: 60 }),
        anyJson.map((v) => JSON.stringify(v)),
        fc.constantFrom("{", '{"a":', "[1,2", "\ufeff{}", "{}}", '{"__proto__":{"x":1}}', "null", "1e999"),
        fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify({ client_name: "x".repeat(n) })),
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers = new Headers({ Authorization: r.authorization });
        if (r.contentType !== null) headers.set("Content-Type", r.contentType);
        const hasBody = r.method !== "GET";
        const res = await fetchWorker(r.path, { method: r.method, headers, body: hasBody ? r.body : undefined });
        if (res.status === 204) return;
        const checked = await checkResponse(res);
        if (hasBody && new TextEncoder().encode(r.body).length > ADMIN_BODY_LIMIT_BYTES && checked.status !== 401 && checked.status !== 404) {
          expect(checked.status, JSON.stringify(checked.body)).toBe(413);
        }
        if (!/^Bearer +\S+\s*$/i.test(r.authorization) || !r.authorization.includes(ADMIN_TOKEN)) {
          // Without the admin token nothing but 401 (or 404 for an unknown route).
          expect([401, 404], JSON.stringify(checked.body)).toContain(checked.status);
        }
      }),
      fuzzRuns(200, 32),
    );
  });
});
