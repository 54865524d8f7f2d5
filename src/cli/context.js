// @ts-check
/**
 * What every CLI command receives: the I/O it may use (injected, so commands run the same under
 * Node and inside workerd for tests), the base URL, the server's RFC 8414 metadata, and calls to
 * the admin API that turn every failure into one readable line. Where the URL and secrets come
 * from is configuration.js; how a request may travel (SPEC §8) is transport.js.
 */
import { adminToken, localAdminTokenHelp, serverUrl } from "./configuration.js";
import { CliError } from "./args.js";
import { discoverMetadata, isLoopbackUrl, readJson, requireSafeTransport, send } from "./transport.js";

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

/** @typedef {import("./transport.js").ServerMetadata} ServerMetadata */

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
  const url = serverUrl(io, args);
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
    metadata: () => (metadata ??= discoverMetadata(io, url)),
  };
}
