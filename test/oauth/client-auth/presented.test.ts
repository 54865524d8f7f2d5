/**
 * extractPresentedCredentials (SPEC §3, RFC 6749 §2.3): exactly one mechanism, well formed.
 */
import { describe, expect, it } from "vitest";
import { extractPresentedCredentials } from "../../../src/oauth/client-auth/presented.js";
import { JWT_BEARER_ASSERTION_TYPE } from "../../../src/core/protocol.js";
import { outcome } from "../reason.js";

const form = (params: Record<string, string>) => new Map(Object.entries(params));
const basic = (raw: string) => `Basic ${btoa(raw)}`;
const ASSERTION = { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: "h.p.s" };

describe("extractPresentedCredentials", () => {
  it("client_secret_basic, with RFC 6749 §2.3.1 form-urlencoding undone", () => {
    expect(extractPresentedCredentials(form({}), basic("my-client:s3cret"))).toEqual({ kind: "client_secret_basic", clientId: "my-client", secret: "s3cret" });
    expect(extractPresentedCredentials(form({}), basic("a%3Ab+c:p%25w+d%3A"))).toEqual({ kind: "client_secret_basic", clientId: "a:b c", secret: "p%w d:" });
    expect(extractPresentedCredentials(form({}), `basic   ${btoa("id:pw")}  `)).toMatchObject({ clientId: "id", secret: "pw" });
  });

  it("splits Basic credentials at the first colon", () => {
    expect(extractPresentedCredentials(form({}), basic("id:pass:word"))).toMatchObject({ clientId: "id", secret: "pass:word" });
  });

  it("refuses malformed Basic credentials", () => {
    for (const header of ["Basic", "Basic !!!", basic("no-colon"), basic(":secret"), basic("id:"), basic("id:%ZZ"), `Basic ${btoa("\xff\xfe:x")}`]) {
      expect(outcome(() => extractPresentedCredentials(form({}), header)), header).toBe("invalid_request/basic_header_malformed");
    }
  });

  it("ignores other Authorization schemes", () => {
    expect(outcome(() => extractPresentedCredentials(form({}), "Bearer abc"))).toBe("invalid_client/no_client_authentication");
    expect(extractPresentedCredentials(form(ASSERTION), "Bearer abc")).toMatchObject({ kind: "client_assertion" });
  });

  it("client_secret_post needs client_id", () => {
    expect(extractPresentedCredentials(form({ client_id: "c", client_secret: "s" }), null)).toEqual({ kind: "client_secret_post", clientId: "c", secret: "s" });
    expect(outcome(() => extractPresentedCredentials(form({ client_secret: "s" }), null))).toBe("invalid_client/secret_without_client_id");
  });

  it("a client assertion, with or without client_id", () => {
    expect(extractPresentedCredentials(form(ASSERTION), null)).toEqual({ kind: "client_assertion", clientId: undefined, assertion: "h.p.s" });
    expect(extractPresentedCredentials(form({ ...ASSERTION, client_id: "c" }), null)).toMatchObject({ clientId: "c" });
  });

  it("refuses a wrong or missing client_assertion_type, and a type without an assertion", () => {
    const check = (params: Record<string, string>) => outcome(() => extractPresentedCredentials(form(params), null));
    expect(check({ client_assertion: "h.p.s" })).toBe("invalid_request/assertion_type_missing");
    expect(check({ ...ASSERTION, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" })).toBe("invalid_request/assertion_type_invalid");
    expect(check({ ...ASSERTION, client_assertion_type: `${JWT_BEARER_ASSERTION_TYPE} ` })).toBe("invalid_request/assertion_type_invalid");
    expect(check({ client_assertion_type: JWT_BEARER_ASSERTION_TYPE })).toBe("invalid_request/assertion_missing");
  });

  it("refuses no mechanism and more than one", () => {
    expect(outcome(() => extractPresentedCredentials(form({ client_id: "c" }), null))).toBe("invalid_client/no_client_authentication");
    const two: [Record<string, string>, string | null][] = [
      [ASSERTION, basic("c:s")],
      [{ client_id: "c", client_secret: "s" }, basic("c:s")],
      [{ ...ASSERTION, client_secret: "s" }, null],
      [{ client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_secret: "s" }, null],
    ];
    for (const [params, header] of two) {
      expect(outcome(() => extractPresentedCredentials(form(params), header))).toBe("invalid_request/multiple_client_authentication");
    }
  });
});
