/**
 * `Authorization: Bearer <ADMIN_TOKEN>` for /admin and for /jwts in `admin` mode (SPEC §6),
 * compared in constant time. A wrong or missing token is 401 with `WWW-Authenticate: Bearer`.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { secretsEqual } from "../oauth/client-auth/secret.js";
import type { AppEnv } from "./app-types.js";
import { OAuthError } from "../core/errors.js";

export const requireAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await presentsAdminToken(c))) throw adminTokenRequired();
  await next();
});

/**
 * Whether the request carries the admin token. False without a Bearer header.
 * @throws OAuthError invalid_token (401) when a Bearer token is sent and is not the admin token.
 */
export async function presentsAdminToken(c: Context<AppEnv>): Promise<boolean> {
  const header = c.req.header("Authorization") ?? "";
  if (!/^bearer(\s|$)/i.test(header.trim())) return false;
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  const expected = await c.get("server").secrets.adminToken();
  if (!match || !(await secretsEqual(match[1]!, expected))) throw adminTokenRequired();
  return true;
}

function adminTokenRequired(): OAuthError {
  return new OAuthError("admin_token_invalid");
}
