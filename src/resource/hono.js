// @ts-check
/**
 * Hono middleware: verify the request's access token, answer the RFC 6750 / RFC 9449 challenge
 * when it fails, and put the claims in `c.var.accessToken` when it passes.
 *
 *   app.use("/api/*", accessTokenAuth({ issuer, audience: "https://api.example.com" }));
 *   app.get("/api/me", (c) => c.json({ client: c.var.accessToken.client_id }));
 */
import { AccessTokenError } from "./errors.js";
import { verifyAccessToken } from "./verify.js";

/**
 * @param {import("./verify.js").VerifyOptions} options  the same object for every request (caches hang off it).
 * @returns {import("hono").MiddlewareHandler<{ Variables: { accessToken: import("./verify.js").AccessTokenClaims } }>}
 */
export function accessTokenAuth(options) {
  return async (c, next) => {
    try {
      c.set("accessToken", await verifyAccessToken(c.req.raw, options));
    } catch (err) {
      if (err instanceof AccessTokenError) return err.toResponse();
      throw err;
    }
    await next();
  };
}
