// @ts-check
/**
 * RFC 9728 protected resource metadata: the document that names this service as the resource's
 * authorization server (what an MCP client reads first), and where to serve it.
 */
import { PRIVATE_KEY_JWT_ALGS } from "../core/algorithms.js";

/**
 * @typedef {object} ProtectedResourceOptions
 * @property {string} resource  the resource identifier: the URL clients call and tokens are issued for (`aud`).
 * @property {readonly string[]} authorizationServers  issuer identifiers, e.g. `["https://auth.example.com"]`.
 * @property {readonly string[]} [scopesSupported]
 * @property {string} [resourceName]
 * @property {string} [resourceDocumentation]
 * @property {boolean} [dpopBoundAccessTokensRequired]
 */


/**
 * The RFC 9728 §2 document.
 * @param {ProtectedResourceOptions} options
 * @throws {TypeError} when `resource` is not an absolute http(s) URL without fragment (§1.2).
 */
export function protectedResourceMetadata(options) {
  checkResource(options.resource);
  if (options.authorizationServers.length === 0) throw new TypeError("authorizationServers must name at least one issuer");
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    // This verifier reads tokens from the Authorization header only (RFC 6750 §2.1).
    bearer_methods_supported: ["header"],
    ...(options.scopesSupported !== undefined ? { scopes_supported: [...options.scopesSupported] } : {}),
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation !== undefined ? { resource_documentation: options.resourceDocumentation } : {}),
    // The DPoP algorithms this verifier checks.
    dpop_signing_alg_values_supported: [...PRIVATE_KEY_JWT_ALGS],
    ...(options.dpopBoundAccessTokensRequired === true ? { dpop_bound_access_tokens_required: true } : {}),
  };
}

/**
 * RFC 9728 §3.1: the metadata URL, `/.well-known/oauth-protected-resource` inserted between the
 * host and the resource's path (`https://api.example.com/mcp` →
 * `https://api.example.com/.well-known/oauth-protected-resource/mcp`).
 * @param {string} resource
 */
export function protectedResourceMetadataUrl(resource) {
  const url = checkResource(resource);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`;
}

/** @param {string} resource */
function checkResource(resource) {
  if (typeof resource !== "string" || !URL.canParse(resource)) throw new TypeError("resource must be an absolute URL");
  const url = new URL(resource);
  if ((url.protocol !== "https:" && url.protocol !== "http:") || resource.includes("#")) throw new TypeError("resource must be an http(s) URL without fragment");
  return url;
}
