// @ts-check
/**
 * edge-token-service/resource: what a resource server (an API, an MCP server) needs to accept the
 * access tokens of this service, for Workers and Node alike (WebCrypto and jose only, no server
 * code). See docs/resource-servers.md.
 */
export { verifyAccessToken } from "./verify.js";
export { ACCESS_TOKEN_TYP, DEFAULT_CLOCK_SKEW_SECONDS } from "../core/protocol.js";
export { AccessTokenError } from "./errors.js";
export { memoryReplayStore, createDpopNonces } from "./dpop.js";
export { DPOP_IAT_WINDOW_SECONDS } from "../core/dpop.js";
export { DEFAULT_REVOCATION_CACHE_SECONDS } from "./revocation.js";
export { accessTokenAuth } from "./hono.js";
export { protectedResourceMetadata, protectedResourceMetadataUrl } from "./metadata.js";
