// @ts-check
/**
 * `ets clients …`: the client management API (SPEC §6) for operators. Key pairs are generated
 * here; only public keys are sent. Secrets are printed once, to stdout only.
 */
import { clientIdArg, CliError, flag, integerFlag, listFlag, requiredFlag, UsageError } from "../args.js";
import { SECRETS_DIR } from "../configuration.js";
import { checkAlg, generateKeyPairJwk, writePrivateKeyFile } from "../keys.js";
import { publicJwkOf, TOKEN_ENDPOINT_AUTH_METHODS } from "../../core/algorithms.js";
import { formatQuota, parseQuota } from "../quota.js";

/** @typedef {import("../context.js").CommandContext} CommandContext */

/** @type {Record<string, { run: (ctx: CommandContext) => Promise<void>, usage: string }>} */
export const clientCommands = {
  create: { run: create, usage: "clients create --name N [--auth private_key_jwt|client_secret_jwt|client_secret_basic|client_secret_post] [--alg ES256] [--scope 'a b'] [--out FILE | --public-key FILE | --jwks-uri URL] [--client-id ID] [--resource URI]… [--ttl S] [--quota LIMIT/WINDOW[,observe]] [--secret-out FILE]" },
  update: { run: update, usage: "clients update ID [--name N] [--scope 'a b'] [--ttl S] [--quota LIMIT/WINDOW[,observe] | --quota none]" },
  list: { run: list, usage: "clients list [--limit N] [--cursor C]" },
  show: { run: show, usage: "clients show ID" },
  disable: { run: (ctx) => setDisabled(ctx, true), usage: "clients disable ID" },
  enable: { run: (ctx) => setDisabled(ctx, false), usage: "clients enable ID" },
  delete: { run: remove, usage: "clients delete ID" },
  "rotate-secret": { run: rotateSecret, usage: "clients rotate-secret ID [--previous-valid-for SECONDS] [--secret-out FILE]" },
  "add-key": { run: addKey, usage: "clients add-key ID [--alg ES256] [--out FILE] | --public-key FILE" },
  "remove-key": { run: removeKey, usage: "clients remove-key ID --kid KID" },
  "replay-guard": { run: setReplayGuard, usage: "clients replay-guard ID [--shards N] [--location wnam|enam|sam|weur|eeur|apac|oc|afr|me|none]" },
};

/** @param {CommandContext} ctx */
async function create(ctx) {
  const { args } = ctx;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const auth = flag(args, "auth") ?? "private_key_jwt";
  if (!(/** @type {readonly string[]} */ (TOKEN_ENDPOINT_AUTH_METHODS)).includes(auth)) throw new UsageError(`--auth must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")}`);
  const clientId = flag(args, "client-id") ?? crypto.randomUUID();
  /** @type {Record<string, unknown>} */
  const metadata = { client_id: clientId, client_name: requiredFlag(args, "name"), token_endpoint_auth_method: auth };
  const scope = flag(args, "scope");
  if (scope !== undefined) metadata.scope = scope;
  const resources = listFlag(args, "resource");
  if (resources.length > 0) metadata.resources = resources;
  const ttl = integerFlag(args, "ttl");
  if (ttl !== undefined) metadata.access_token_ttl = ttl;
  const quota = flag(args, "quota");
  if (quota !== undefined) {
    const parsed = parseQuota(quota);
    if (parsed === null) throw new UsageError("--quota none is for clients update; a new client without --quota has no quota");
    metadata.token_quota = parsed;
  }

  /** @type {string | undefined} */
  let keyFile;
  const jwksUri = flag(args, "jwks-uri");
  if (auth === "private_key_jwt") {
    // Pinned to the generated key's alg, or to --alg; a client's own keys may use any allowed alg.
    const explicitAlg = flag(args, "alg");
    if (explicitAlg !== undefined) metadata.token_endpoint_auth_signing_alg = checkAlg(explicitAlg);
    const publicKeyFile = flag(args, "public-key");
    if ([jwksUri, publicKeyFile, flag(args, "out")].filter((v) => v !== undefined).length > 1) {
      throw new UsageError("--jwks-uri, --public-key and --out exclude each other");
    }
    if (jwksUri !== undefined) {
      metadata.jwks_uri = jwksUri;
    } else if (publicKeyFile !== undefined) {
      // The client made its own key pair: register its public key as given (kid included).
      const publicJwk = publicJwkOf(await readJwkFile(ctx, publicKeyFile));
      if (publicJwk.alg !== undefined && explicitAlg === undefined) metadata.token_endpoint_auth_signing_alg = publicJwk.alg;
      metadata.jwks = { keys: [publicJwk] };
    } else {
      // Private key first, to a file nobody else can read; registration only sends the public key.
      const alg = checkAlg(explicitAlg);
      metadata.token_endpoint_auth_signing_alg = alg;
      const pair = await generateKeyPairJwk(alg);
      // Default under .secrets/ (gitignored), so a private key never lands where `git add .` takes it.
      keyFile = flag(args, "out") ?? `${SECRETS_DIR}/${clientId}.private.jwk.json`;
      await writePrivateKeyFile(ctx.io, keyFile, pair.privateJwk);
      metadata.jwks = { keys: [pair.publicJwk] };
    }
  } else {
    if (jwksUri !== undefined || flag(args, "out") !== undefined || flag(args, "public-key") !== undefined) {
      throw new UsageError(`--jwks-uri, --public-key and --out are for private_key_jwt clients, not ${auth}`);
    }
    if (auth === "client_secret_jwt") metadata.token_endpoint_auth_signing_alg = flag(args, "alg") ?? "HS256";
    else if (flag(args, "alg") !== undefined) throw new UsageError(`--alg does not apply to ${auth}`);
  }

  let info;
  try {
    info = await ctx.admin("POST", "/admin/clients", metadata);
  } catch (err) {
    // Not registered: do not leave an orphan private key behind.
    if (keyFile !== undefined) await ctx.io.removeFile(keyFile).catch(() => {});
    throw err;
  }
  if (ctx.json) return ctx.out(JSON.stringify({ ...info, ...(keyFile ? { private_key_file: keyFile } : {}) }, null, 2));
  ctx.out(`client_id: ${info.client_id}`);
  if (info.token_quota !== undefined) ctx.out(`token_quota: ${quotaText(info.token_quota)}`);
  if (info.client_secret) {
    await showSecret(ctx, info.client_secret);
    ctx.note("The client secret is shown only now: store it in the client's secret manager.");
  } else if (flag(args, "secret-out") !== undefined) {
    ctx.note(`--secret-out: ${auth} clients have no secret; nothing written`);
  }
  if (keyFile) {
    ctx.out(`private_key_file: ${keyFile}`);
    ctx.note(`The private key is in ${keyFile} (mode 0600); only its public half was registered. Hand it to the client over a secure channel.`);
    ctx.note(`Try it: npm run -s cli -- token --url ${ctx.url} --client-id ${info.client_id} --key ${keyFile}`);
  }
}

/**
 * PATCH a client's plain fields; `--quota none` removes its quota (SPEC §11).
 * @param {CommandContext} ctx
 */
async function update(ctx) {
  const id = clientIdArg(ctx.args);
  /** @type {Record<string, unknown>} */
  const change = {};
  const name = flag(ctx.args, "name");
  if (name !== undefined) change.client_name = name;
  const scope = flag(ctx.args, "scope");
  if (scope !== undefined) change.scope = scope;
  const ttl = integerFlag(ctx.args, "ttl");
  if (ttl !== undefined) change.access_token_ttl = ttl;
  const quota = flag(ctx.args, "quota");
  if (quota !== undefined) change.token_quota = parseQuota(quota);
  if (Object.keys(change).length === 0) throw new UsageError("give at least one of --name, --scope, --ttl, --quota");
  const info = await ctx.admin("PATCH", `/admin/clients/${encodeURIComponent(id)}`, change);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`${info.client_id} updated: ${Object.keys(change).join(", ")}`);
  if ("token_quota" in change) ctx.out(`token_quota: ${quotaText(info.token_quota)}`);
  ctx.note("Token requests everywhere see the change within about a minute (KV propagation plus a 10 s per-isolate cache).");
}

/** @param {{ limit: number, window: number, mode: string } | undefined} quota */
function quotaText(quota) {
  return quota === undefined ? "none" : formatQuota(quota);
}

/** @param {CommandContext} ctx */
async function list(ctx) {
  const limit = integerFlag(ctx.args, "limit") ?? 100;
  let cursor = flag(ctx.args, "cursor");
  const onePage = cursor !== undefined;
  /** @type {any[]} */
  const clients = [];
  /** @type {string | undefined} */
  let next;
  do {
    const page = await ctx.admin("GET", `/admin/clients?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    clients.push(...page.clients);
    next = page.next_cursor;
    cursor = next;
  } while (!onePage && cursor);
  if (ctx.json) return ctx.out(JSON.stringify(onePage ? { clients, ...(next ? { next_cursor: next } : {}) } : clients, null, 2));
  const rows = clients.map((c) => [c.client_id, c.token_endpoint_auth_method, c.disabled ? "disabled" : "enabled", c.scope || "-", c.client_name ?? ""]);
  for (const line of table([["CLIENT_ID", "AUTH", "STATUS", "SCOPE", "NAME"], ...rows])) ctx.out(line);
  if (onePage && next) ctx.note(`more: --cursor ${next}`);
}

/** @param {CommandContext} ctx */
async function show(ctx) {
  const id = clientIdArg(ctx.args);
  ctx.out(JSON.stringify(await ctx.admin("GET", `/admin/clients/${encodeURIComponent(id)}`), null, 2));
}

/**
 * @param {CommandContext} ctx
 * @param {boolean} disabled
 */
async function setDisabled(ctx, disabled) {
  const id = clientIdArg(ctx.args);
  const info = await ctx.admin("PATCH", `/admin/clients/${encodeURIComponent(id)}`, { disabled });
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`${info.client_id} ${disabled ? "disabled" : "enabled"}`);
  ctx.note("Token requests everywhere see the change within about a minute (KV propagation plus a 10 s per-isolate cache).");
}

/**
 * PATCH a client's replay-guard topology (README, Latency model): the server validates both
 * fields and keeps the old objects in force while they may hold a live jti.
 * @param {CommandContext} ctx
 */
async function setReplayGuard(ctx) {
  const id = clientIdArg(ctx.args);
  const shards = integerFlag(ctx.args, "shards");
  const location = flag(ctx.args, "location");
  if (shards === undefined && location === undefined) throw new UsageError("give --shards N, --location HINT, or both");
  /** @type {Record<string, unknown>} */
  const change = {};
  if (shards !== undefined) change.replay_guard_shards = shards;
  if (location !== undefined) change.replay_guard_location = location === "none" ? null : location;
  const info = await ctx.admin("PATCH", `/admin/clients/${encodeURIComponent(id)}`, change);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`${info.client_id} replay guard: ${info.replay_guard_shards} shards${info.replay_guard_location ? `, location ${info.replay_guard_location}` : ""}`);
  ctx.note("The previous objects stay in force for a few minutes, so no assertion can be used twice meanwhile.");
}

/** @param {CommandContext} ctx */
async function remove(ctx) {
  const id = clientIdArg(ctx.args);
  await ctx.admin("DELETE", `/admin/clients/${encodeURIComponent(id)}`);
  ctx.out(`${id} deleted`);
}

/** @param {CommandContext} ctx */
async function rotateSecret(ctx) {
  const id = clientIdArg(ctx.args);
  const overlap = integerFlag(ctx.args, "previous-valid-for", 0);
  const body = overlap === undefined ? undefined : { previous_secret_valid_for: overlap };
  const info = await ctx.admin("POST", `/admin/clients/${encodeURIComponent(id)}/secret`, body);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  await showSecret(ctx, info.client_secret);
  const until = info.client_secret_previous_expires_at;
  ctx.note(
    until === undefined
      ? "The new secret is shown only now. The old secret no longer works (as the change propagates, about a minute at most)."
      : `The new secret is shown only now. The old secret keeps working until ${new Date(until * 1000).toISOString()}: switch the client over before then (wait a minute first, for the change to propagate).`,
  );
}

/** @param {CommandContext} ctx */
async function addKey(ctx) {
  const id = clientIdArg(ctx.args);
  const path = `/admin/clients/${encodeURIComponent(id)}/keys`;
  const publicKeyFile = flag(ctx.args, "public-key");
  /** @type {import("jose").JWK} */
  let publicJwk;
  /** @type {string | undefined} */
  let keyFile;
  if (publicKeyFile !== undefined) {
    if (flag(ctx.args, "alg") !== undefined || flag(ctx.args, "out") !== undefined) throw new UsageError("--public-key excludes --alg and --out");
    publicJwk = publicJwkOf(await readJwkFile(ctx, publicKeyFile));
    if (typeof publicJwk.kid !== "string") throw new CliError(`${publicKeyFile}: the key needs a "kid" (keys are removed by kid)`);
  } else {
    // Default alg: the client's registered one, so the new key can replace the old.
    const client = await ctx.admin("GET", `/admin/clients/${encodeURIComponent(id)}`);
    const pair = await generateKeyPairJwk(checkAlg(flag(ctx.args, "alg") ?? client.token_endpoint_auth_signing_alg));
    keyFile = flag(ctx.args, "out") ?? `${SECRETS_DIR}/${id}.${pair.kid}.private.jwk.json`;
    await writePrivateKeyFile(ctx.io, keyFile, pair.privateJwk);
    publicJwk = pair.publicJwk;
  }
  let info;
  try {
    info = await ctx.admin("POST", path, publicJwk);
  } catch (err) {
    if (keyFile !== undefined) await ctx.io.removeFile(keyFile).catch(() => {});
    throw err;
  }
  if (ctx.json) return ctx.out(JSON.stringify({ ...info, ...(keyFile ? { private_key_file: keyFile } : {}) }, null, 2));
  ctx.out(`kid: ${publicJwk.kid}`);
  if (keyFile) ctx.out(`private_key_file: ${keyFile}`);
  const others = info.jwks.keys.map((/** @type {any} */ k) => k.kid).filter((/** @type {string} */ kid) => kid !== publicJwk.kid);
  ctx.note(`The client now has ${info.jwks.keys.length} keys. Once it signs with ${publicJwk.kid}, remove the old one: clients remove-key ${id} --kid ${others[0] ?? "<old-kid>"}`);
}

/** @param {CommandContext} ctx */
async function removeKey(ctx) {
  const id = clientIdArg(ctx.args);
  const kid = requiredFlag(ctx.args, "kid");
  const info = await ctx.admin("DELETE", `/admin/clients/${encodeURIComponent(id)}/keys/${encodeURIComponent(kid)}`);
  if (ctx.json) return ctx.out(JSON.stringify(info, null, 2));
  ctx.out(`removed ${kid}; remaining: ${info.jwks.keys.map((/** @type {any} */ k) => k.kid).join(" ")}`);
}

/**
 * A JWK file, public or private (only the public half is ever sent).
 * @param {CommandContext} ctx
 * @param {string} path
 * @returns {Promise<import("jose").JWK>}
 */
async function readJwkFile(ctx, path) {
  const text = await ctx.io.readFile(path).catch((err) => {
    throw new CliError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  });
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not a JWK (JSON)`);
  }
  if (typeof jwk !== "object" || jwk === null || typeof jwk.kty !== "string") throw new CliError(`${path} is not a JWK (no kty)`);
  return jwk;
}

/**
 * Left-aligned columns.
 * @param {string[][]} rows
 * @returns {string[]}
 */
function table(rows) {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

/**
 * A secret the server issued: to --secret-out FILE (mode 0600, never over an existing file), so it
 * never shows on the terminal, or as a `client_secret:` line on stdout.
 * @param {CommandContext} ctx
 * @param {string} secret
 */
async function showSecret(ctx, secret) {
  const file = flag(ctx.args, "secret-out");
  if (file === undefined) return ctx.out(`client_secret: ${secret}`);
  try {
    await ctx.io.writeFile(file, `${secret}\n`, { mode: 0o600, exclusive: true });
  } catch (err) {
    throw new CliError(`the secret was issued but cannot be written to ${file} (${err instanceof Error ? err.message : String(err)}); rotate it again with another --secret-out`);
  }
  ctx.out(`client_secret_file: ${file}`);
}
