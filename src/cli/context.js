// @ts-check
/**
 * What every CLI command receives: the I/O it may use (injected, so commands run the same under
 * Node and inside workerd for tests), the base URL, and calls to the admin API and the token
 * endpoint that turn every failure into one readable line.
 */
import { CliError, flag } from "./args.js";

/** Where `npm start` writes the local admin token (scripts/dev.mjs). */
export const DEV_ADMIN_TOKEN_FILE = ".wrangler/dev-admin-token";
export const DEFAULT_URL = "http://127.0.0.1:8787";

/**
 * @typedef {object} CliIo
 * @property {(input: string, init?: RequestInit) => Promise<Response>} fetch
 * @property {Record<string, string | undefined>} env  environment variables (ETS_URL, ETS_ADMIN_TOKEN)
 * @property {(text: string) => void} stdout  writes `text` as is
 * @property {(text: string) => void} stderr  writes `text` as is
 * @property {(path: string) => Promise<string>} readFile
 * @property {(path: string, text: string, options: { mode: number, exclusive: boolean }) => Promise<void>} writeFile
 *   `exclusive`: fail if the file exists (never overwrite a private key).
 * @property {(path: string) => Promise<void>} removeFile
 * @property {() => Promise<string>} readStdin
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
 */

/**
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @returns {CommandContext}
 */
export function commandContext(io, args) {
  const url = (flag(args, "url") ?? io.env.ETS_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!URL.canParse(url)) throw new CliError(`--url "${url}" is not a URL`);
  /** @type {Promise<string> | undefined} */
  let token;
  return {
    io,
    args,
    url,
    json: args.flags.json === true,
    out: (line = "") => io.stdout(`${line}\n`),
    note: (line = "") => io.stderr(`${line}\n`),
    async admin(method, path, body) {
      token ??= adminToken(io, args, url);
      const headers = /** @type {Record<string, string>} */ ({ Authorization: `Bearer ${await token}`, Accept: "application/json" });
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const res = await send(io, `${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return readJson(res, `${method} ${path}`);
    },
  };
}

/**
 * `fetch` with a readable failure.
 * @param {CliIo} io
 * @param {string} target
 * @param {RequestInit} init
 * @returns {Promise<Response>}
 */
export async function send(io, target, init) {
  try {
    return await io.fetch(target, init);
  } catch (err) {
    const local = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(target) ? " (is `npm start` running?)" : "";
    throw new CliError(`cannot reach ${new URL(target).origin}${local}: ${err instanceof Error ? err.message : String(err)}`);
  }
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
 * The admin token: --admin-token, ETS_ADMIN_TOKEN, or (for a loopback URL only, so a local token
 * is never sent elsewhere) ADMIN_TOKEN in .dev.vars, then the file `npm start` writes.
 * @param {CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @param {string} url
 * @returns {Promise<string>}
 */
async function adminToken(io, args, url) {
  const given = flag(args, "admin-token") ?? io.env.ETS_ADMIN_TOKEN;
  if (given) return given;
  if (/^(127\.0\.0\.1|localhost|\[::1\])$/.test(new URL(url).hostname)) {
    const devVars = await io.readFile(".dev.vars").catch(() => "");
    const fromDevVars = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(devVars)?.[1];
    if (fromDevVars) return fromDevVars.trim();
    const fromFile = await io.readFile(DEV_ADMIN_TOKEN_FILE).catch(() => "");
    if (fromFile.trim()) return fromFile.trim();
  }
  throw new CliError(`no admin token: pass --admin-token or set ETS_ADMIN_TOKEN (for local dev, \`npm start\` writes ${DEV_ADMIN_TOKEN_FILE})`);
}
