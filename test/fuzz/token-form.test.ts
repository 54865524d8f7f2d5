/**
 * Fuzz: hostile token requests at the HTTP level (SPEC §2, §3 rule 1). Random and mutated form
 * bodies (any parameter names and values, duplicates, huge values, odd and invalid percent
 * encodings, raw invalid UTF-8, streamed without Content-Length), Content-Type variants, HTTP Basic garbage and other methods.
 * The Worker never answers 5xx, never issues a token without valid credentials, and always
 * answers an RFC 6749 error with `Cache-Control: no-store`. Requests with valid credentials get
 * a token through harmless variation and lose it to any duplicated parameter.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FORM_BODY_LIMIT_BYTES } from "../../src/http/limits.js";
import { callWorker, JWT_BEARER, postForm, registerSecretClient } from "../support/helpers.js";
import {
  assertionForm,
  base64urlText,
  checkResponse,
  CLIENT_AUTH_ENDPOINTS,
  expectClientAuthEndpointError,
  fuzzRuns,
  headerText,
  quietWorkerLogs,
  registerFuzzClients,
  validAssertion,
  type FuzzKeyClient,
} from "../support/fuzz.js";

quietWorkerLogs();

let basic: { clientId: string; secret: string };
let post: { clientId: string; secret: string };
let assertionClients: FuzzKeyClient[];
let clientIds: string[];

beforeAll(async () => {
  basic = await registerSecretClient("client_secret_basic");
  post = await registerSecretClient("client_secret_post");
  assertionClients = (await registerFuzzClients()).all;
  clientIds = [basic.clientId, post.clientId, ...assertionClients.map((c) => c.clientId)];
});

const PARAM_NAMES = ["grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope", "resource", "token", "audience", "", "grant_type[]", "GRANT_TYPE"];

const paramName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 10 }) });

/** Non-ASCII text just under the 256-character limits of client_id and jti (SPEC §3 rule 10). */
const nearLimitUnicode = fc.string({ unit: "grapheme", minLength: 200, maxLength: 256 }).map((text) => {
  let out = "";
  for (const codePoint of text) if (out.length + codePoint.length <= 250) out += codePoint;
  return out;
});

/** Values: protocol words, real client ids (never their secrets), unicode, huge, JWT-shaped. */
const paramValue = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("client_credentials", "authorization_code", "password", "refresh_token", JWT_BEARER, `${JWT_BEARER} `, "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "read", "read write", "read  write", "admin", "https://api.test/", "https://api.test/#f", "") },
    { weight: 2, arbitrary: fc.constantFrom(...clientIds) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 80, maxLength: 250 }) },
    { weight: 1, arbitrary: nearLimitUnicode },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => "A".repeat(n)) },
    { weight: 1, arbitrary: fc.tuple(base64urlText, base64urlText, base64urlText).map((parts) => parts.join(".")) },
  );

/** Ways to put pairs on the wire, including broken ones. */
const INVALID_ESCAPES = ["%", "%G1", "%FF", "%C3%28", "%E2%82", "%ED%A0%80", "%F4%90%80%80", "%00", "%C0%AF", "%%", "%2"];
type Encoding = "standard" | "raw" | "percent-everything" | "invalid-escapes";

function encodePairs(pairs: [string, string][], encoding: Encoding, escapes: string[]): string {
  switch (encoding) {
    case "standard":
      return new URLSearchParams(pairs).toString();
    case "raw":
      return pairs.map(([n, v]) => `${n}=${v}`).join("&");
    case "percent-everything":
      return pairs.map(([n, v]) => `${percentAll(n)}=${percentAll(v)}`).join("&");
    case "invalid-escapes": {
      const parts = pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`);
      escapes.forEach((escape, i) => {
        const at = i % Math.max(parts.length, 1);
        parts[at] = (parts[at] ?? "") + escape;
      });
      return parts.join("&");
    }
  }
}

function percentAll(text: string): string {
  return [...new TextEncoder().encode(text)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

const CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=UTF-8",
  "APPLICATION/X-WWW-FORM-URLENCODED",
  "application/x-www-form-urlencoded;charset=ISO-8859-1",
  "application/x-www-form-urlencoded, application/json",
  "application/x-www-form-urlencodedx",
  "application/json",
  "text/plain",
  "multipart/form-data; boundary=xyz",
  "",
];
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<string | null>(CONTENT_TYPES[0]!, CONTENT_TYPES[1]!, CONTENT_TYPES[2]!) },
  { weight: 4, arbitrary: fc.constantFrom<string | null>(...CONTENT_TYPES, null) },
  { weight: 1, arbitrary: headerText },
);

/** Authorization headers: none, garbage Basic in every shape, other schemes, real ids with wrong secrets. */
const authorization = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<string | null>(null) },
    { weight: 2, arbitrary: fc.constantFrom("Basic", "Basic ", "basic Og==", "Basic Og==", "Basic =", "Basic !!!!", "Basic ====", "BASIC  YTpi", "Bearer abc", "Digest x", "Basic YQ==", "Basic OmI=", "Basic JUZGOiVGRg==") },
    { weight: 2, arbitrary: headerText.map((text) => `Basic ${text}`) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map((text) => `Basic ${bytesToBase64(new TextEncoder().encode(text))}`) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 30 }).map((bytes) => `Basic ${bytesToBase64(bytes)}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...clientIds), fc.string({ maxLength: 70 })).map(([id, secret]) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`) },
    { weight: 2, arbitrary: nearLimitUnicode.map((id) => `Basic ${bytesToBase64(new TextEncoder().encode(`${encodeURIComponent(id)}:x`))}`) },
    { weight: 1, arbitrary: headerText },
  );

function bytesToBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

interface HostileRequest {
  path: string;
  method: string;
  contentType: string | null;
  authorization: string | null;
  body: string | Uint8Array | undefined;
  /** Send the body as a stream in chunks of this size (no Content-Length), or at once. */
  chunkSize: number | null;
}

const hostileRequest = () =>
  fc
    .record({
      endpoint: fc.constantFrom(...CLIENT_AUTH_ENDPOINTS),
      query: fc.constantFrom("", "", "", "?grant_type=client_credentials", "?client_id=x&client_secret=y"),
      method: fc.constantFrom("POST", "POST", "POST", "POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"),
      // Mostly start from the endpoint's own parameters, so the checks past grant_type are reached.
      withEndpointParams: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      pairs: fc.array(fc.tuple(paramName, paramValue()), { maxLength: 8 }),
      encoding: fc.constantFrom<Encoding>("standard", "standard", "raw", "percent-everything", "invalid-escapes"),
      escapes: fc.array(fc.constantFrom(...INVALID_ESCAPES), { maxLength: 4 }),
      rawBytes: fc.option(fc.uint8Array({ maxLength: 200 }), { freq: 8 }),
      contentType,
      authorization: authorization(),
      chunkSize: fc.option(fc.integer({ min: 1, max: 4096 }), { freq: 4 }),
    })
    .map(
      (r): HostileRequest => ({
        path: r.endpoint.path + r.query,
        method: r.method,
        contentType: r.contentType,
        authorization: r.authorization,
        chunkSize: r.chunkSize,
        body:
          r.method === "GET"
            ? undefined
            : (r.rawBytes ?? encodePairs([...(r.withEndpointParams ? Object.entries(r.endpoint.params) : []), ...r.pairs], r.encoding, r.escapes)),
      }),
    );

async function send(request: HostileRequest): Promise<Response> {
  const headers = new Headers();
  if (request.contentType !== null) headers.set("Content-Type", request.contentType);
  if (request.authorization !== null) headers.set("Authorization", request.authorization);
  const body = request.body !== undefined && request.chunkSize !== null ? chunked(request.body, request.chunkSize) : request.body;
  return callWorker(request.path, { method: request.method, headers, body, duplex: "half" } as RequestInit);
}

function chunked(body: string | Uint8Array, size: number): ReadableStream<Uint8Array> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
}

function byteLength(body: string | Uint8Array | undefined): number {
  if (body === undefined) return 0;
  return typeof body === "string" ? new TextEncoder().encode(body).length : body.length;
}

describe("fuzz: hostile token requests", () => {
  it("answers every hostile request with an RFC 6749 error, never a token or a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest(), async (request) => {
        const res = await send(request);
        const triedBasic = /^\s*basic(\s|$)/i.test(request.authorization ?? "");
        const checked = await checkResponse(res, { triedBasic });
        expect(checked.status, JSON.stringify(checked.body)).not.toBe(200);
        expectClientAuthEndpointError(checked);
        if (request.method === "POST" && byteLength(request.body) > FORM_BODY_LIMIT_BYTES) expect(checked.status).toBe(413);
      }),
      fuzzRuns(500, 20),
    );
  });

  it("issues a token to valid secret credentials through harmless variation (control)", async () => {
    const variation = fc.record({
      useBasic: fc.boolean(),
      contentType: fc.constantFrom("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-Urlencoded ;charset=utf-8"),
      scope: fc.constantFrom(undefined, "read", "write read", "read write read"),
      unknown: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).map((k) => `x_${k}`), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
      shuffle: fc.boolean(),
      encoding: fc.constantFrom<Encoding>("standard", "percent-everything"),
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CLIENT_AUTH_ENDPOINTS), variation, async (endpoint, v) => {
        const client = v.useBasic ? basic : post;
        const pairs: [string, string][] = [...Object.entries(endpoint.params), ...Object.entries(v.unknown)];
        if (v.scope) pairs.push(["scope", v.scope]);
        if (!v.useBasic) pairs.push(["client_id", client.clientId], ["client_secret", client.secret]);
        if (v.shuffle) pairs.reverse();
        const headers: Record<string, string> = { "Content-Type": v.contentType };
        if (v.useBasic) headers.Authorization = `Basic ${btoa(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`)}`;
        const res = await callWorker(endpoint.path, { method: "POST", headers, body: encodePairs(pairs, v.encoding, []) });
        expect(res.status, await res.clone().text()).toBe(200);
      }),
      fuzzRuns(60, 21),
    );
  });

  it("refuses any duplicated parameter with invalid_request, even with valid credentials", async () => {
    const method = fc.constantFrom("client_secret_post", "client_secret_basic", "client_assertion");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CLIENT_AUTH_ENDPOINTS), method, fc.nat(), fc.option(fc.string({ maxLength: 20 })), fc.nat(), async (endpoint, m, pick, otherValue, position) => {
        let form: Record<string, string>;
        const headers: Record<string, string> = {};
        if (m === "client_assertion") {
          const client = assertionClients[pick % assertionClients.length]!;
          form = assertionForm(endpoint, await validAssertion(client), { client_id: client.clientId, scope: "read" });
        } else if (m === "client_secret_post") {
          form = { ...endpoint.params, client_id: post.clientId, client_secret: post.secret, scope: "read" };
        } else {
          form = { ...endpoint.params, scope: "read" };
          headers.Authorization = `Basic ${btoa(`${basic.clientId}:${basic.secret}`)}`;
        }
        const pairs = Object.entries(form);
        const [name, value] = pairs[pick % pairs.length]!;
        // The duplicate carries the same value or another one, anywhere in the body.
        pairs.splice(position % (pairs.length + 1), 0, [name, otherValue ?? value]);
        const checked = await checkResponse(await postForm(new URLSearchParams(pairs).toString(), headers, endpoint.path), { triedBasic: m === "client_secret_basic" });
        expect(checked.status).toBe(400);
        expect(checked.body.error).toBe("invalid_request");
      }),
      fuzzRuns(80, 22),
    );
  });
});
