/**
 * Fuzz: the client management API (SPEC §6) with hostile JSON bodies, JWKs, paths and headers.
 * Never a 5xx; every refusal is JSON with `error` and `error_description` and no-store; and what
 * it does accept keeps the registry's invariants (no private or weak keys, HTTPS jwks_uri, a
 * secret exactly for secret methods), so an accepted record never breaks the token endpoint.
 */
import fc from "fast-check";
import { base64url } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_BODY_LIMIT_BYTES } from "../../src/http/limits.js";
import { ADMIN_TOKEN, callWorker, JWT_BEARER, postForm, uniqueId } from "../support/helpers.js";
import { generateFuzzKeys, metadata, metadataJson, METHODS, type FuzzKeys } from "../support/admin-arbitraries.js";
import { anyJson, checkResponse, fuzzRuns, headerText, quietWorkerLogs } from "../support/fuzz.js";
import { PRIVATE_JWK_MEMBERS } from "../../src/core/algorithms.js";

quietWorkerLogs();


function adminFetch(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return callWorker(path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body,
  });
}

let keys: FuzzKeys;
beforeAll(async () => {
  keys = await generateFuzzKeys();
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
    for (const member of PRIVATE_JWK_MEMBERS) expect(key, `private member ${member} stored`).not.toHaveProperty(member);
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
  const checked = await checkResponse(await postForm(form, headers, "/oauth2/token"), { triedBasic: "Authorization" in headers });
  expect([400, 401]).toContain(checked.status);
}

describe("fuzz: client management API", () => {
  it("registration: any JSON body gets 201 with a sound record, or a JSON error; never a 5xx", async () => {
    const body = fc.oneof({ weight: 4, arbitrary: metadataJson(metadata(keys)) }, { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) });
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
      { weight: 4, arbitrary: metadataJson(metadata(keys).map(({ client_id: _id, token_endpoint_auth_method: _m, ...rest }) => rest)) },
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
        const res = await callWorker(r.path, { method: r.method, headers, body: hasBody ? r.body : undefined });
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
