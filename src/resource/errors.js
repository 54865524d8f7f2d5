// @ts-check
/**
 * The one error type of the resource-server verifier: a rejected request, carrying what to answer
 * (status, RFC 6750 §3 / RFC 9449 §7.1 `WWW-Authenticate` challenges, `DPoP-Nonce`). A caller's
 * misconfiguration is a `TypeError` instead, never an AccessTokenError.
 */

/**
 * @typedef {"invalid_request" | "invalid_token" | "insufficient_scope" | "invalid_dpop_proof" | "use_dpop_nonce" | "temporarily_unavailable"} AccessTokenErrorCode
 */

/** @type {Record<AccessTokenErrorCode, number>} */
const STATUS = {
  invalid_request: 400, // RFC 6750 §3.1
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401, // RFC 9449 §7.1: a proof problem at a resource server is a 401 challenge
  use_dpop_nonce: 401, // RFC 9449 §9
  temporarily_unavailable: 503, // the issuer's keys or introspection could not be reached: fail closed
};

/**
 * What the challenges say besides the error (filled in by verifyAccessToken).
 * @typedef {object} ChallengeContext
 * @property {"Bearer" | "DPoP" | null} scheme  the scheme the request used; the error goes on that challenge.
 * @property {boolean} bearerAllowed  whether a Bearer challenge is offered at all.
 * @property {string} [realm]
 * @property {readonly string[]} [scopes]  required scopes (RFC 6750 §3 `scope`).
 * @property {string} [resourceMetadataUrl]  RFC 9728 §5.1 `resource_metadata`.
 * @property {readonly string[]} dpopAlgs  RFC 9449 §7.1 `algs`.
 * @property {string} [dpopNonce]  RFC 9449 §9: sent as the `DPoP-Nonce` header.
 */

export class AccessTokenError extends Error {
  /**
   * @param {AccessTokenErrorCode | null} code  null when the request carried no credentials at all
   *   (RFC 6750 §3.1: the challenge then has no error code).
   * @param {string} description  public text naming the failed check; never the token.
   * @param {ChallengeContext} context
   */
  constructor(code, description, context) {
    super(description);
    this.name = "AccessTokenError";
    /** @readonly */ this.code = code;
    /** @readonly */ this.description = description;
    /** @readonly */ this.status = code === null ? 401 : STATUS[code];
    /** @type {Record<string, string>} headers to send with the answer (WWW-Authenticate, DPoP-Nonce, no-store). */
    this.headers = { "Cache-Control": "no-store" };
    if (code !== "temporarily_unavailable") this.headers["WWW-Authenticate"] = challenges(code, description, context);
    if (context.dpopNonce !== undefined) this.headers["DPoP-Nonce"] = context.dpopNonce;
  }

  /** The `WWW-Authenticate` value, if any. */
  get wwwAuthenticate() {
    return this.headers["WWW-Authenticate"];
  }

  /** The answer to send: status, headers, and an RFC 6749 §5.2-style JSON body. */
  toResponse() {
    const body = this.code === null ? {} : { error: this.code, error_description: this.description };
    return new Response(JSON.stringify(body), { status: this.status, headers: { "Content-Type": "application/json", ...this.headers } });
  }
}

/**
 * RFC 6750 §3 and RFC 9449 §7.1: one challenge per scheme this resource accepts; the error
 * attributes on the challenge of the scheme the request used (on every challenge when it used none).
 * @param {AccessTokenErrorCode | null} code
 * @param {string} description
 * @param {ChallengeContext} context
 */
function challenges(code, description, context) {
  /** @param {"Bearer" | "DPoP"} scheme */
  const challenge = (scheme) => {
    /** @type {string[]} */
    const params = [];
    if (context.realm !== undefined) params.push(`realm="${quotable(context.realm)}"`);
    if (code !== null && (context.scheme === scheme || context.scheme === null)) {
      params.push(`error="${code}"`, `error_description="${quotable(description)}"`);
    }
    if (context.scopes !== undefined && context.scopes.length > 0) params.push(`scope="${quotable(context.scopes.join(" "))}"`);
    if (context.resourceMetadataUrl !== undefined) params.push(`resource_metadata="${quotable(context.resourceMetadataUrl)}"`);
    if (scheme === "DPoP") params.push(`algs="${context.dpopAlgs.join(" ")}"`);
    return params.length === 0 ? scheme : `${scheme} ${params.join(", ")}`;
  };
  return context.bearerAllowed ? `${challenge("Bearer")}, ${challenge("DPoP")}` : challenge("DPoP");
}

/**
 * RFC 6750 §3: attribute values use %x20-21 / %x23-5B / %x5D-7E, so quotes and backslashes never
 * need escaping.
 * @param {string} text
 */
function quotable(text) {
  return text.replace(/"/g, "'").replace(/\\/g, "/").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?");
}

/**
 * A failed check inside the verifier, before the challenge context is known; verifyAccessToken
 * turns it into an AccessTokenError.
 */
export class Rejection extends Error {
  /**
   * @param {AccessTokenErrorCode | null} code
   * @param {string} description
   * @param {string} [dpopNonce]  a fresh server nonce to send with `use_dpop_nonce`.
   */
  constructor(code, description, dpopNonce) {
    super(description);
    this.code = code;
    this.description = description;
    this.dpopNonce = dpopNonce;
  }
}
