/**
 * `Authorization: Bearer <ADMIN_TOKEN>` for /admin and for /jwts in `admin` mode (SPEC §6),
 * compared in constant time. A wrong or missing token is 401 with `WWW-Authenticate: Bearer`.
 */
import { createMiddleware } from "hono/factory";
import { secretsEqual } from "../oauth/client-auth/secret.js";
import type { AppEnv } from "./app-types.js";
import { OAuthError } from "./errors.js";

export const requireAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  const expected = await c.get("server").adminToken();
  if (!match || !(await secretsEqual(match[1]!, expected))) {
    throw new OAuthError("invalid_token", "a valid admin bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)", "admin_token_invalid");
  }
  await next();
});
