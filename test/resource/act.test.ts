/**
 * edge-token-service/resource and token exchange (SPEC §13): a token the upstream API receives
 * from an MCP server that exchanged its caller's token verifies with `act` on its claims (who
 * acts for whom), a malformed `act` is refused, and the online revocation check refuses the
 * exchanged token once its caller's token is revoked.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT as TOKEN_EXCHANGE_GRANT_TYPE } from "../../src/core/protocol.js";
import { verifyAccessToken } from "../../src/resource/index.js";
import type { RevocationOptions } from "../../src/resource/revocation.js";
import { postForm, registerSecretClient } from "../helpers.js";
import { forgeServerToken, revoke } from "../lifecycle-helpers.js";
import { expectRejected, mintToken, options, registerResourceClient, RESOURCE } from "./resource-support.js";

const UPSTREAM = "https://upstream.example/api";
const basic = (id: string, secret: string) => ({ Authorization: `Basic ${btoa(`${id}:${secret}`)}` });

/** The caller's token for RESOURCE (the MCP server), exchanged by the MCP server's client for UPSTREAM. */
async function exchangedToken() {
  const caller = await registerResourceClient({ scope: "read write" });
  const subject = await mintToken(caller);
  const mcp = await registerSecretClient("client_secret_basic", { scope: "read", token_exchange: { subject_audiences: [RESOURCE], resources: [UPSTREAM] } });
  const res = await postForm({ grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: UPSTREAM }, basic(mcp.clientId, mcp.secret));
  expect(res.status, await res.clone().text()).toBe(200);
  return { caller, subject, mcp, token: (await res.json<{ access_token: string }>()).access_token };
}

describe("act on verified claims", () => {
  it("the upstream API sees the caller as sub, the MCP server as client_id and act.sub", async () => {
    const { caller, mcp, token } = await exchangedToken();
    const claims = await verifyAccessToken(token, options({ audience: UPSTREAM, scopes: ["read"] }));
    expect(claims).toMatchObject({ sub: caller.clientId, client_id: mcp.clientId, act: { sub: mcp.clientId }, scope: "read" });
  });

  it("a token whose act is not an actor chain is refused", async () => {
    for (const act of ["mcp", { sub: 1 }, { sub: "a", act: [] }]) {
      const token = await forgeServerToken({ aud: RESOURCE, act });
      await expectRejected(verifyAccessToken(token, options()), 401, "invalid_token", /act claim is not an actor chain/);
    }
  });

  it("the online check refuses an exchanged token once the caller's token is revoked", async () => {
    const { caller, subject, token } = await exchangedToken();
    const rs = await registerSecretClient("client_secret_basic", { introspection_allowed: true, scope: "" });
    const revocation: RevocationOptions = { clientId: rs.clientId, clientSecret: rs.secret, onFailure: "closed", cacheSeconds: 0 };
    await verifyAccessToken(token, options({ audience: UPSTREAM, revocation }));
    expect((await revoke(caller, subject)).status).toBe(200);
    await expectRejected(verifyAccessToken(token, options({ audience: UPSTREAM, revocation })), 401, "invalid_token", /revoked or is no longer active/);
  });
});
