// @ts-check
/**
 * `ets assertion` and `ets token`: what a client does, from the operator's shell. `assertion`
 * prints an RFC 7523 client assertion; `token` runs the whole client_credentials request
 * (RFC 6749 §4.4) and prints the token response.
 */
import { createClientAssertion, JWT_BEARER_ASSERTION_TYPE } from "../../client/assertion.js";
import { CliError, flag, integerFlag, listFlag, requiredFlag, UsageError } from "../args.js";
import { readJson, send } from "../context.js";
import { readPrivateKeyFile } from "../keys.js";

/** @typedef {import("../context.js").CommandContext} CommandContext */

const TOKEN_PATH = "/oauth2/token";
const SECRET_METHODS = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];

export const credentialCommands = {
  assertion: {
    run: assertion,
    usage: "assertion --client-id ID (--key FILE | --secret S) [--aud URL] [--alg ALG] [--lifetime S] [--typ T]",
  },
  token: {
    run: token,
    usage: "token --client-id ID (--key FILE | --secret S [--auth client_secret_basic|client_secret_post|client_secret_jwt]) [--scope 'a b'] [--resource URI] [--aud URL]",
  },
};

/** @param {CommandContext} ctx */
async function assertion(ctx) {
  const clientId = requiredFlag(ctx.args, "client-id");
  ctx.out(await signAssertion(ctx, clientId, await signingKey(ctx)));
}

/** @param {CommandContext} ctx */
async function token(ctx) {
  const clientId = requiredFlag(ctx.args, "client-id");
  const key = await signingKey(ctx);
  const form = new URLSearchParams({ grant_type: "client_credentials" });
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
  const res = await send(ctx.io, `${ctx.url}${TOKEN_PATH}`, { method: "POST", headers, body: form.toString() });
  const body = await readJson(res, "token endpoint");
  ctx.out(JSON.stringify(body, null, 2));
}

/**
 * @typedef {{ kind: "private_key", key: import("jose").JWK | string } | { kind: "secret", secret: string }} SigningMaterial
 */

/**
 * --key FILE (a private JWK or PKCS#8 PEM) or --secret S.
 * @param {CommandContext} ctx
 * @returns {Promise<SigningMaterial>}
 */
async function signingKey(ctx) {
  const keyFile = flag(ctx.args, "key");
  const secret = flag(ctx.args, "secret") ?? ctx.io.env.ETS_CLIENT_SECRET;
  if (keyFile !== undefined && flag(ctx.args, "secret") !== undefined) throw new UsageError("give --key or --secret, not both");
  if (keyFile !== undefined) return { kind: "private_key", key: await readPrivateKeyFile(ctx.io, keyFile) };
  if (secret !== undefined && secret !== "") return { kind: "secret", secret };
  throw new UsageError("--key FILE (private_key_jwt) or --secret S (secret clients; or ETS_CLIENT_SECRET) is required");
}

/**
 * @param {CommandContext} ctx
 * @param {string} clientId
 * @param {SigningMaterial} material
 * @returns {Promise<string>}
 */
async function signAssertion(ctx, clientId, material) {
  const lifetimeSeconds = integerFlag(ctx.args, "lifetime");
  try {
    return await createClientAssertion({
      clientId,
      key: material.kind === "private_key" ? material.key : material.secret,
      audience: flag(ctx.args, "aud") ?? `${ctx.url}${TOKEN_PATH}`,
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
