/**
 * Fuzz: byte-level mutations of a valid client assertion (SPEC §3 rules 2 and 5). Whatever the
 * mutation — a changed, inserted or deleted character, a truncation, segments dropped, repeated
 * or swapped, a segment replaced by random base64url or by JSON that is an array/number/null,
 * odd encodings (padding, whitespace, non-canonical trailing bits) — the answer is never a token
 * unless the mutation left the assertion byte-identical, and always an RFC 6749 error.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  anyJson,
  assertionForm,
  b64u,
  base64urlText,
  checkResponse,
  CLIENT_AUTH_ENDPOINTS,
  expectClientAuthEndpointError,
  fuzzRuns,
  quietWorkerLogs,
  registerFuzzClients,
  validAssertion,
  type FuzzKeyClient,
} from "../support/fuzz.js";
import { postForm } from "../support/helpers.js";

quietWorkerLogs();

const B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Characters a mutation may put in: the alphabet, separators, padding, whitespace, non-ASCII. */
const mutationChar = fc.oneof(
  fc.constantFrom(...B64URL_ALPHABET),
  fc.constantFrom(".", "=", " ", "\t", "\n", "+", "/", "%", "&", "é", "\u0000", "\u{1f600}", "\ufeff"),
);

/** A replacement for one segment. */
const segmentValue = fc.oneof(
  base64urlText,
  fc.constantFrom("", "e30", "bnVsbA", "W10", "MQ", "InN0cmluZyI", "dHJ1ZQ"), // {} null [] 1 "string" true
  anyJson.map((value) => b64u(JSON.stringify(value))),
  fc.uint8Array({ maxLength: 96 }).map((bytes) => b64u(bytes)),
  fc.string({ maxLength: 40 }),
);

type Mutation =
  | { kind: "replace"; at: number; char: string }
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number }
  | { kind: "flip-case"; at: number }
  | { kind: "segment"; index: number; value: string }
  | { kind: "layout"; order: number[] }
  | { kind: "trailing-bits"; index: number; bits: number }
  | { kind: "padding"; index: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), char: mutationChar }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ unit: mutationChar, minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip-case" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("segment" as const), index: fc.integer({ min: 0, max: 2 }), value: segmentValue }),
  // Wrong segment counts and orders: [0,1] is two segments, [0,1,2,2,2] five (JWE-shaped), ...
  fc.record({ kind: fc.constant("layout" as const), order: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 7 }) }),
  // Odd encodings of the same bytes: non-zero unused bits in the last character of a segment ...
  fc.record({ kind: fc.constant("trailing-bits" as const), index: fc.integer({ min: 0, max: 2 }), bits: fc.integer({ min: 1, max: 15 }) }),
  // ... and base64 padding or whitespace appended to a segment.
  fc.record({ kind: fc.constant("padding" as const), index: fc.integer({ min: 0, max: 2 }), text: fc.constantFrom("=", "==", " ", "\t", "\r\n", "%3D") }),
);

/** Apply `m` to a compact JWS. */
function mutate(compact: string, m: Mutation): string {
  const at = (n: number) => (compact.length === 0 ? 0 : n % compact.length);
  const segments = compact.split(".");
  switch (m.kind) {
    case "replace":
      return compact.slice(0, at(m.at)) + m.char + compact.slice(at(m.at) + 1);
    case "insert":
      return compact.slice(0, at(m.at)) + m.text + compact.slice(at(m.at));
    case "delete":
      return compact.slice(0, at(m.at)) + compact.slice(at(m.at) + m.length);
    case "truncate":
      return compact.slice(0, at(m.at));
    case "flip-case": {
      const c = compact.charAt(at(m.at));
      const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      return compact.slice(0, at(m.at)) + flipped + compact.slice(at(m.at) + 1);
    }
    case "segment":
      segments[m.index] = m.value;
      return segments.join(".");
    case "layout":
      return m.order.map((i) => segments[i]).join(".");
    case "trailing-bits": {
      const segment = segments[m.index]!;
      // A length of 2 or 3 mod 4 leaves 4 or 2 bits of the last character unused.
      const unusedBits = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
      if (unusedBits === 0) return compact;
      const last = B64URL_ALPHABET.indexOf(segment.at(-1)!);
      const bits = m.bits % (1 << unusedBits) || 1;
      segments[m.index] = segment.slice(0, -1) + B64URL_ALPHABET[last ^ bits];
      return segments.join(".");
    }
    case "padding":
      segments[m.index] += m.text;
      return segments.join(".");
  }
}

let clients: FuzzKeyClient[];
beforeAll(async () => {
  clients = (await registerFuzzClients()).all;
});

describe("fuzz: mutated client assertions", () => {
  it("the unmutated assertion gets a token on every endpoint (control)", async () => {
    for (const client of clients) {
      for (const endpoint of CLIENT_AUTH_ENDPOINTS) {
        const res = await postForm(assertionForm(endpoint, await validAssertion(client)), {}, endpoint.path);
        expect(res.status, await res.clone().text()).toBe(200);
      }
    }
  });

  it("never issues a token for a mutated assertion", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...clients),
        fc.constantFrom(...CLIENT_AUTH_ENDPOINTS),
        mutation,
        fc.boolean(),
        async (client, endpoint, m, sendClientId) => {
          const original = await validAssertion(client);
          const mutated = mutate(original, m);
          const extra: Record<string, string> = sendClientId ? { client_id: client.clientId } : {};
          const res = await postForm(assertionForm(endpoint, mutated, extra), {}, endpoint.path);
          if (mutated === original) {
            expect(res.status).toBe(200);
            return;
          }
          const checked = await checkResponse(res);
          expect(checked.status, `token issued for ${JSON.stringify(m)}: ${mutated}`).not.toBe(200);
          expectClientAuthEndpointError(checked, ["invalid_client", "invalid_request"]);
        },
      ),
      fuzzRuns(400, 1),
    );
  });
});
