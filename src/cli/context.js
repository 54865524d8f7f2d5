// @ts-check
/**
 * What every CLI command receives: the I/O it may use (injected, so commands run the same under
 * Node and inside workerd for tests), the base URL, the server's RFC 8414 metadata, and calls to
 * the admin API that turn every failure into one readable line.
 *
 * Credentials (the admin token, a client secret, a client assertion) are never sent over plain
 * `http://` except to a loopback host, discovery metadata is trusted only under the same rule, and
 * no request follows a redirect (SPEC §8). Secrets are read from the environment or a file in
 * preference to argv, where they would show in `ps` and shell history.
 */
import { CliError, flag, UsageError } from "./args.js";

/** Local dev's gitignored secrets file: `npm start` keeps the local ADMIN_TOKEN here, and plain `wrangler dev` reads it too. */
export const DEV_VARS_FILE = ".dev.vars";
export const DEFAULT_URL = "http://127.0.0.1:8787";
/** Where the CLI writes private keys unless told otherwise: covered by .gitignore. */
export const SECRETS_DIR = ".secrets";
const DISCOVERY_PATH = "/.well-known/oauth-authorization-server";

/**
 * @typedef {object} CliIo
 * @property {(input: string, init?: RequestInit) => Promise<Response>} fetch
 * @property {Record<string, string | undefined>} env  environment variables (ETS_URL, ETS_ADMIN_TOKEN, …)
 * @property {(text: string) => void} stdout  writes `text` as is
 * @property {(text: string) => void} stderr  writes `text` as is
 * @property {(path: string) => Promise<string>} readFile
 * @property {(path: string, text: string, options: { mode: number, exclusive: boolean }) => Promise<void>} writeFile
 *   `exclusive`: fail if the file exists (never overwrite a private key). Creates missing directories (0700).
 * @property {(path: string) => Promise<void>} removeFile
 * @property {() => Promise<string>} readStdin
 */

/**
 * The parts of the server's RFC 8414 metadata the CLI uses.
 * @typedef {{ issuer: string, token_endpoint: string }} ServerMetadata
 */

/**
 * @typedef {object} CommandContext
 * @property {CliIo} io
 * @property {import("./args.js").ParsedArgs} args
 * @property {string} url  base URL without trailing slash
 * @property {boolean} json  `--json`: print the API's JSON instead of the human summary
 * @property {(line?: string) => void} out  one line to stdout
 * @property {(line?: string) => void} note  one line to stderr
 * @property {<T = any>(method: string, path: string, body?: unknown) => Promise<T>} admin
 * @property {() => Promise<ServerMetadata>} metadata  the server's discovery document, fetched once
 */

/**
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @returns {CommandContext}
 */
export function commandContext(io, args) {
  const url = (flag(args, "url") ?? io.env.ETS_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new CliError(`--url "${url}" is not an http(s) URL`);
  /** @type {Promise<string> | undefined} */
  let token;
  /** @type {Promise<ServerMetadata> | undefined} */
  let metadata;
  const note = (line = "") => io.stderr(`${line}\n`);
  return {
    io,
    args,
    url,
    json: args.flags.json === true,
    out: (line = "") => io.stdout(`${line}\n`),
    note,
    async admin(method, path, body) {
      const target = `${url}${path}`;
      // Before the token is even looked up: nothing is read that will not be sent.
      requireSafeTransport(target, "the admin token");
      token ??= adminToken(io, args, url, note);
      const headers = /** @type {Record<string, string>} */ ({ Authorization: `Bearer ${await token}`, Accept: "application/json" });
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const res = await send(io, target, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, { what: `${method} ${path}`, why: "the admin token is never sent on to another URL" });
      if (res.status === 401 && isLoopbackUrl(url)) {
        await res.body?.cancel();
        throw new CliError(`${method} ${path}: 401: ${await localAdminTokenHelp(io, args)}`);
      }
      return readJson(res, `${method} ${path}`);
    },
    metadata: () => (metadata ??= discover(io, url)),
  };
}

/**
 * True for a URL whose host is a loopback address: 127.0.0.0/8, ::1, or `localhost` (the address
 * rules the Worker uses for local dev). `URL` has already normalised IPv4 forms such as `127.1`.
 * @param {string} target
 * @returns {boolean}
 */
export function isLoopbackUrl(target) {
  const host = new URL(target).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
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
 * A secret from, in order: `--<name>-file FILE`, `--<name> VALUE` (works, with a warning: argv
 * shows in `ps` and shell history), the environment variable `envName`, or the file named by
 * `<envName>_FILE`. Undefined when none is given.
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @param {string} name  the flag, e.g. "admin-token"
 * @param {string} envName  e.g. "ETS_ADMIN_TOKEN"
 * @param {(line: string) => void} note
 * @returns {Promise<string | undefined>}
 */
export async function readSecret(io, args, name, envName, note) {
  const file = flag(args, `${name}-file`);
  const inline = flag(args, name);
  if (file !== undefined && inline !== undefined) throw new UsageError(`give --${name} or --${name}-file, not both`);
  if (file !== undefined) return readSecretFile(io, file, `--${name}-file`);
  if (inline !== undefined) {
    note(`ets: warning: --${name} puts the secret in the process list and shell history; prefer ${envName}=… or --${name}-file FILE`);
    return inline;
  }
  const fromEnv = io.env[envName];
  if (fromEnv) return fromEnv;
  const envFile = io.env[`${envName}_FILE`];
  if (envFile) return readSecretFile(io, envFile, `${envName}_FILE`);
  return undefined;
}

/**
 * @param {CliIo} io
 * @param {string} path
 * @param {string} source
 * @returns {Promise<string>}
 */
async function readSecretFile(io, path, source) {
  let text;
  try {
    text = await io.readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${path} (${source}): ${err instanceof Error ? err.message : String(err)}`);
  }
  const value = text.trim();
  if (value === "") throw new CliError(`${path} (${source}) is empty`);
  return value;
}

/**
 * `fetch` with a readable failure, never following a redirect (SPEC §8): a request that carries a
 * credential must not carry it on to whatever URL a 3xx names, and metadata is trusted only from
 * the URL asked. A 3xx is an error that names where it pointed.
 * @param {CliIo} io
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
 * @param {CliIo} io
 * @param {string} url
 * @returns {Promise<ServerMetadata>}
 */
async function discover(io, url) {
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

/**
 * The admin token: --admin-token-file, --admin-token, ETS_ADMIN_TOKEN(_FILE), or (for a loopback
 * URL only, so a local token is never sent elsewhere) ADMIN_TOKEN in .dev.vars.
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @param {string} url
 * @param {(line: string) => void} note
 * @returns {Promise<string>}
 */
async function adminToken(io, args, url, note) {
  const given = await readSecret(io, args, "admin-token", "ETS_ADMIN_TOKEN", note);
  if (given) return given;
  if (isLoopbackUrl(url)) {
    const fromDevVars = readDevVar(await io.readFile(DEV_VARS_FILE).catch(() => ""), "ADMIN_TOKEN");
    if (fromDevVars) return fromDevVars;
    throw new CliError(`no admin token for the local server: ${await localAdminTokenHelp(io, args)}`);
  }
  throw new CliError("no admin token: set ETS_ADMIN_TOKEN (or pass --admin-token-file FILE)");
}

/**
 * What to do when the local server refuses (or the CLI lacks) the local admin token.
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @returns {Promise<string>}
 */
async function localAdminTokenHelp(io, args) {
  const explicit = flag(args, "admin-token-file") ?? flag(args, "admin-token") ?? io.env.ETS_ADMIN_TOKEN ?? io.env.ETS_ADMIN_TOKEN_FILE;
  if (explicit !== undefined) return "the local server refused the admin token you gave (ETS_ADMIN_TOKEN / --admin-token); unset it to use ADMIN_TOKEN from .dev.vars";
  const inDevVars = readDevVar(await io.readFile(DEV_VARS_FILE).catch(() => ""), "ADMIN_TOKEN") !== undefined;
  return inDevVars
    ? "the local server does not use ADMIN_TOKEN from .dev.vars; it was started before .dev.vars had it, or with --var ADMIN_TOKEN:…. Restart it (`npm start`, or `npx wrangler dev`, which reads .dev.vars at start), or set ETS_ADMIN_TOKEN to the token it uses"
    : "there is no ADMIN_TOKEN in .dev.vars. Run `npm start` (it writes one there, and plain `npx wrangler dev` reads it too), or set ETS_ADMIN_TOKEN to the token plain `wrangler dev` printed (\"local dev: … the generated local admin token is …\")";
}

/**
 * One value of a dotenv file such as .dev.vars (`NAME=value`, `NAME="value"` or `NAME='value'`).
 * @param {string} text
 * @param {string} name
 * @returns {string | undefined}
 */
export function readDevVar(text, name) {
  const match = new RegExp(`^\\s*${name}\\s*=\\s*(.*)$`, "m").exec(text);
  if (!match) return undefined;
  const raw = /** @type {string} */ (match[1]).trim();
  const quoted = /^(["'])(.*)\1$/.exec(raw);
  const value = quoted ? /** @type {string} */ (quoted[2]) : raw;
  return value === "" ? undefined : value;
}

/**
 * `text` (a dotenv file) with `name` set to `value`, single-quoted (the value may hold JSON).
 * @param {string} text
 * @param {string} name
 * @param {string} value
 * @returns {string}
 */
export function setDevVar(text, name, value) {
  if (value.includes("'") || value.includes("\n")) throw new CliError(`${name} cannot be written to ${DEV_VARS_FILE}: the value holds a quote or a newline`);
  const line = `${name}='${value}'`;
  const pattern = new RegExp(`^\\s*${name}\\s*=.*$`, "m");
  if (pattern.test(text)) return text.replace(pattern, line);
  return `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${line}\n`;
}
