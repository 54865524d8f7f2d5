// @ts-check
/**
 * How the CLI talks to the server (SPEC §8): a credential (the admin token, a client secret, a
 * client assertion) is never sent over plain `http://` except to a loopback host, discovery
 * metadata is trusted only under the same rule, no request follows a redirect, and every failure
 * becomes one readable line. Which hosts count as loopback is core/addresses.js's
 * isLoopbackForCredentials, the one rule for where a credential may go over plain http.
 */
import { isLoopbackForCredentials } from "../core/addresses.js";
import { CliError } from "./args.js";

const DISCOVERY_PATH = "/.well-known/oauth-authorization-server";

/**
 * The parts of the server's RFC 8414 metadata the CLI uses.
 * @typedef {{ issuer: string, token_endpoint: string }} ServerMetadata
 */

/**
 * True for a URL whose host is loopback on the operator's machine (127.0.0.0/8, ::1, localhost).
 * @param {string} target
 * @returns {boolean}
 */
export function isLoopbackUrl(target) {
  return isLoopbackForCredentials(new URL(target).hostname);
}

/**
 * Refuse to send `what` (a credential) to `target`, or with `direction` "read" to trust `what` read
 * from it, unless it is https, or http to a loopback host (SPEC §8).
 * @param {string} target
 * @param {string} what
 * @param {"send" | "read"} [direction]
 * @throws {CliError}
 */
export function requireSafeTransport(target, what, direction = "send") {
  const parsed = new URL(target);
  if (parsed.protocol === "https:" || (parsed.protocol === "http:" && isLoopbackUrl(target))) return;
  const action = direction === "send" ? `send ${what} over plain ${parsed.protocol}// to` : `read ${what} over plain ${parsed.protocol}// from`;
  throw new CliError(`refusing to ${action} ${parsed.host}: use https:// (plain http:// is only for a loopback host: 127.0.0.0/8, ::1, localhost)`);
}

/**
 * `fetch` with a readable failure, never following a redirect (SPEC §8): a request that carries a
 * credential must not carry it on to whatever URL a 3xx names, and metadata is trusted only from
 * the URL asked. A 3xx is an error that names where it pointed.
 * @param {import("./context.js").CliIo} io
 * @param {string} target
 * @param {RequestInit} init
 * @param {{ what: string, why: string }} request  what the request is, and why a redirect is not
 *   followed ("the admin token is never sent on to another URL"), for the message
 * @returns {Promise<Response>}
 */
export async function send(io, target, init, request) {
  /** @type {Response} */
  let res;
  try {
    res = await io.fetch(target, { ...init, redirect: "manual" });
  } catch (err) {
    const local = isLoopbackUrl(target) ? " (is `npm start` running?)" : "";
    throw new CliError(`cannot reach ${new URL(target).origin}${local}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // A browser-like fetch answers `redirect: "manual"` with an opaque response (type opaqueredirect, status 0).
  if ((res.status >= 300 && res.status < 400) || /** @type {string} */ (res.type) === "opaqueredirect") {
    await res.body?.cancel();
    const location = res.headers.get("Location");
    const where = location === null ? "" : ` (a redirect to ${URL.canParse(location, target) ? new URL(location, target).href : location})`;
    throw new CliError(
      `${request.what}: the server answered ${res.status}${where}; not followed: ${request.why}. Use the URL the service answers on (--url / ETS_URL)`,
    );
  }
  return res;
}

/**
 * The JSON body of a successful response; an error response becomes one line:
 * `<what>: <status> <error>: <error_description>`.
 * @param {Response} res
 * @param {string} what
 * @returns {Promise<any>}
 */
export async function readJson(res, what) {
  const text = await res.text();
  /** @type {any} */
  let body;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.ok && body !== undefined) return body;
  if (body && typeof body.error === "string") {
    throw new CliError(`${what}: ${res.status} ${body.error}${body.error_description ? `: ${body.error_description}` : ""}`);
  }
  throw new CliError(`${what}: HTTP ${res.status}, ${res.ok ? "a body that is not JSON" : "no OAuth error body"}`);
}

/**
 * RFC 8414 discovery: the issuer (the assertion `aud` every audience mode accepts) and the token
 * endpoint, which may be on another origin than --url (a workers.dev URL of a Worker whose
 * ISSUER is its custom domain).
 * @param {import("./context.js").CliIo} io
 * @param {string} url
 * @returns {Promise<ServerMetadata>}
 */
export async function discoverMetadata(io, url) {
  const what = `GET ${DISCOVERY_PATH}`;
  // SPEC §8: the metadata decides where credentials go and what an assertion names: trusted only
  // under the rule credentials are sent by.
  requireSafeTransport(`${url}${DISCOVERY_PATH}`, "the discovery metadata", "read");
  const body = await readJson(await send(io, `${url}${DISCOVERY_PATH}`, { headers: { Accept: "application/json" } }, { what, why: "metadata is trusted only from the URL asked" }), what);
  for (const member of ["issuer", "token_endpoint"]) {
    const value = body?.[member];
    if (typeof value !== "string" || !URL.canParse(value)) throw new CliError(`${what}: the metadata has no valid "${member}"`);
  }
  return { issuer: body.issuer, token_endpoint: body.token_endpoint };
}
