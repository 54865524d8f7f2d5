// @ts-check
/**
 * `ets assertion` and `ets token`: what a client does, from the operator's shell. `assertion`
 * prints an RFC 7523 client assertion; `token` runs the whole client_credentials request
 * (RFC 6749 §4.4) and prints the token response. Both take the assertion `aud` (the issuer) and
 * the token endpoint from the server's RFC 8414 metadata, not from --url: a Worker reached on
 * another origin than its ISSUER (its workers.dev URL) still gets assertions it accepts.
 */
import { createClientAssertion } from "../../client/assertion.js";
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_ASSERTION_TYPE } from "../../core/protocol.js";
import { CliError, flag, integerFlag, listFlag, requiredFlag, UsageError } from "../args.js";
import { readSecret } from "../configuration.js";
import { isLoopbackUrl, readJson, requireSafeTransport, send } from "../transport.js";
import { readPrivateKeyFile, writePrivateKeyFile } from "../keys.js";

/** @typedef {import("../context.js").CommandContext} CommandContext */

/** The local-dev demo client whose private key the local server hands out (GET /admin/local-dev). */
const DEMO_KEY_CLIENT_ID = "demo-private-key-jwt";
const SECRET_METHODS = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];

export const credentialCommands = {
  assertion: {
    run: assertion,
    usage: "assertion --client-id ID (--key FILE | --secret-file FILE) [--aud URL (default: the issuer)] [--alg ALG] [--lifetime S] [--typ T]",
  },
  token: {
    run: token,
    usage: "token --client-id ID (--key FILE | --secret-file FILE [--auth client_secret_basic|client_secret_post|client_secret_jwt]) [--scope 'a b'] [--resource URI] [--aud URL]",
  },
};

/** @param {CommandContext} ctx */
async function assertion(ctx) {
  const clientId = requiredFlag(ctx.args, "client-id");
  ctx.out(await signAssertion(ctx, clientId, await signingKey(ctx, clientId)));
}

/** @param {CommandContext} ctx */
async function token(ctx) {
  const clientId = requiredFlag(ctx.args, "client-id");
  const key = await signingKey(ctx, clientId);
  const form = new URLSearchParams({ grant_type: CLIENT_CREDENTIALS_GRANT });
  const scope = flag(ctx.args, "scope");
  if (scope !== undefined) form.set("scope", scope);
  const resources = listFlag(ctx.args, "resource");
  if (resources.length > 1) throw new UsageError("--resource may be given once");
  if (resources[0] !== undefined) form.set("resource", resources[0]);
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };

  const auth = key.kind === "private_key" ? "private_key_jwt" : (flag(ctx.args, "auth") ?? "client_secret_basic");
  if (key.kind === "private_key" && flag(ctx.args, "auth") !== undefined && flag(ctx.args, "auth") !== "private_key_jwt") {
    throw new UsageError("--key signs private_key_jwt assertions; use --secret for secret-based methods");
  }
  if (key.kind === "secret" && !SECRET_METHODS.includes(auth)) throw new UsageError(`--auth must be one of ${SECRET_METHODS.join(", ")} with --secret`);
  const secret = key.kind === "secret" ? key.secret : "";
  const tokenEndpoint = (await ctx.metadata()).token_endpoint;
  // SPEC §8: a client assertion is a credential too (usable until it expires, by whoever reads it).
  const credential = auth === "client_secret_basic" || auth === "client_secret_post" ? "the client secret" : "the client assertion";
  requireSafeTransport(tokenEndpoint, credential);
  if (auth === "client_secret_basic") {
    // RFC 6749 §2.3.1: form-urlencode both parts before base64.
    const encode = (/** @type {string} */ v) => encodeURIComponent(v).replace(/%20/g, "+");
    headers.Authorization = `Basic ${btoa(`${encode(clientId)}:${encode(secret)}`)}`;
  } else if (auth === "client_secret_post") {
    form.set("client_id", clientId);
    form.set("client_secret", secret);
  } else {
    form.set("client_id", clientId);
    form.set("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
    form.set("client_assertion", await signAssertion(ctx, clientId, key));
  }
  const res = await send(ctx.io, tokenEndpoint, { method: "POST", headers, body: form.toString() }, { what: "token endpoint", why: `${credential} is never sent on to another URL` });
  const body = await readJson(res, "token endpoint");
  ctx.out(JSON.stringify(body, null, 2));
}

/**
 * @typedef {{ kind: "private_key", key: import("jose").JWK | string } | { kind: "secret", secret: string }} SigningMaterial
 */

/**
 * --key FILE (a private JWK or PKCS#8 PEM), or the client secret (--secret-file FILE,
 * ETS_CLIENT_SECRET, ETS_CLIENT_SECRET_FILE, or --secret S with a warning).
 * @param {CommandContext} ctx
 * @param {string} clientId
 * @returns {Promise<SigningMaterial>}
 */
async function signingKey(ctx, clientId) {
  const keyFile = flag(ctx.args, "key");
  if (keyFile !== undefined && (flag(ctx.args, "secret") !== undefined || flag(ctx.args, "secret-file") !== undefined)) {
    throw new UsageError("give --key or a client secret, not both");
  }
  if (keyFile !== undefined) return { kind: "private_key", key: await readKeyOrFetchDemoKey(ctx, keyFile, clientId) };
  const secret = await readSecret(ctx.io, ctx.args, "secret", "ETS_CLIENT_SECRET", ctx.note);
  if (secret !== undefined && secret !== "") return { kind: "secret", secret };
  throw new UsageError("--key FILE (private_key_jwt) or a client secret (ETS_CLIENT_SECRET, or --secret-file FILE) is required");
}

/**
 * The key file; for the local demo client on a loopback URL, a missing file is fetched from the
 * local server (GET /admin/local-dev, admin token) and written, so plain `wrangler dev` works
 * without `npm start` having run.
 * @param {CommandContext} ctx
 * @param {string} keyFile
 * @param {string} clientId
 */
async function readKeyOrFetchDemoKey(ctx, keyFile, clientId) {
  try {
    return await readPrivateKeyFile(ctx.io, keyFile);
  } catch (err) {
    const missing = await ctx.io.readFile(keyFile).then(() => false, () => true);
    if (!(missing && clientId === DEMO_KEY_CLIENT_ID && isLoopbackUrl(ctx.url))) throw err;
  }
  /** @type {{ demo_clients?: { client_id: string, private_jwk?: import("jose").JWK }[] }} */
  const info = await ctx.admin("GET", "/admin/local-dev");
  const jwk = info.demo_clients?.find((c) => c.client_id === DEMO_KEY_CLIENT_ID)?.private_jwk;
  if (!jwk) throw new CliError(`GET /admin/local-dev: no private key for ${DEMO_KEY_CLIENT_ID}`);
  await writePrivateKeyFile(ctx.io, keyFile, jwk);
  ctx.note(`Fetched the local demo client's private key from ${ctx.url}/admin/local-dev into ${keyFile} (mode 0600).`);
  return jwk;
}

/**
 * @param {CommandContext} ctx
 * @param {string} clientId
 * @param {SigningMaterial} material
 * @returns {Promise<string>}
 */
async function signAssertion(ctx, clientId, material) {
  const lifetimeSeconds = integerFlag(ctx.args, "lifetime");
  // The issuer: accepted as aud in every audience mode (RFC 7523 §3 item 3, RFC 7523bis).
  const audience = flag(ctx.args, "aud") ?? (await ctx.metadata()).issuer;
  try {
    return await createClientAssertion({
      clientId,
      key: material.kind === "private_key" ? material.key : material.secret,
      audience,
      ...optional("alg", flag(ctx.args, "alg")),
      ...optional("typ", flag(ctx.args, "typ")),
      ...optional("lifetimeSeconds", lifetimeSeconds),
    });
  } catch (err) {
    throw new CliError(`cannot sign the assertion: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * `{ [name]: value }` when value is defined, else `{}` (for exactOptionalPropertyTypes-style options).
 * @template {string} K
 * @template V
 * @param {K} name
 * @param {V | undefined} value
 * @returns {Partial<Record<K, V>>}
 */
function optional(name, value) {
  return value === undefined ? {} : /** @type {Partial<Record<K, V>>} */ ({ [name]: value });
}
