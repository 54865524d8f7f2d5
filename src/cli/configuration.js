// @ts-check
/**
 * Where the CLI's settings come from: the server URL (`--url`, `ETS_URL`, else local dev's), and
 * secrets from the environment or a file in preference to argv, where they would show in `ps` and
 * shell history. For a loopback URL only, the local admin token is read from `.dev.vars`, where
 * `npm start` keeps it, so a local token is never sent elsewhere.
 */
import { CliError, flag, UsageError } from "./args.js";
import { isLoopbackUrl } from "./transport.js";

/** Local dev's gitignored secrets file: `npm start` keeps the local ADMIN_TOKEN here, and plain `wrangler dev` reads it too. */
export const DEV_VARS_FILE = ".dev.vars";
export const DEFAULT_URL = "http://127.0.0.1:8787";
/** Where the CLI writes private keys unless told otherwise: covered by .gitignore. */
export const SECRETS_DIR = ".secrets";

/**
 * The server's base URL, without trailing slash: `--url`, else `ETS_URL`, else local dev's.
 * @param {import("./context.js").CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @returns {string}
 * @throws {CliError} for a URL that is not http(s).
 */
export function serverUrl(io, args) {
  const url = (flag(args, "url") ?? io.env.ETS_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new CliError(`--url "${url}" is not an http(s) URL`);
  return url;
}

/**
 * A secret from, in order: `--<name>-file FILE`, `--<name> VALUE` (works, with a warning: argv
 * shows in `ps` and shell history), the environment variable `envName`, or the file named by
 * `<envName>_FILE`. Undefined when none is given.
 * @param {import("./context.js").CliIo} io
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
 * @param {import("./context.js").CliIo} io
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
 * The admin token: --admin-token-file, --admin-token, ETS_ADMIN_TOKEN(_FILE), or (for a loopback
 * URL only, so a local token is never sent elsewhere) ADMIN_TOKEN in .dev.vars.
 * @param {import("./context.js").CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @param {string} url
 * @param {(line: string) => void} note
 * @returns {Promise<string>}
 */
export async function adminToken(io, args, url, note) {
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
 * @param {import("./context.js").CliIo} io
 * @param {import("./args.js").ParsedArgs} args
 * @returns {Promise<string>}
 */
export async function localAdminTokenHelp(io, args) {
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
