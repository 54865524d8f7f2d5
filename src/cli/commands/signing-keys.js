// @ts-check
/**
 * `ets keys …`: the server's `SIGNING_KEYS` secret (SPEC §5), a JWK Set of private keys whose
 * first key signs and all of which are published at /.well-known/jwks.json. Rotation is
 * publish first, sign later, retire after the last token signed with the old key has expired:
 *
 *   keys rotate   append a new key after the current ones (published, not signing)
 *   keys promote  move it first (now signing; the old key stays published)
 *   keys retire   remove the old key once its tokens have expired
 *
 * These commands never talk to the server: they read the current value (stdin or --current FILE)
 * and print the next one on stdout, for `npx wrangler secret put SIGNING_KEYS`, or write it to
 * --out FILE (mode 0600, never over an existing file). Steps go to stderr. With --local they read
 * and write LOCAL_DEV_SIGNING_KEYS in .dev.vars instead, the local server's secrets file (it
 * replaces the generated local key once the server restarts; SIGNING_KEYS itself would turn local
 * dev off, as it does for a deployment).
 *
 * Keys that rotate themselves (SPEC §12, SIGNING_KEY_ROTATION = "auto") live in the server's key
 * ring instead: `keys status` lists them (GET /admin/keys) and `keys rotate` given no SIGNING_KEYS
 * value (no --current, no --local, nothing on stdin) is the emergency rotation (POST
 * /admin/keys/rotate, `--remove-previous` after a compromise).
 */
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS } from "../../core/protocol.js";
import { CliError, flag, StdinIsTerminalError, UsageError } from "../args.js";
import { DEV_VARS_FILE, readDevVar, setDevVar } from "../configuration.js";
import { checkAlg, generateKeyPairJwk } from "../keys.js";

/** The .dev.vars line `--local` works on: local dev's signing key (SIGNING_KEYS would end local dev). */
const LOCAL_SIGNING_KEYS_VAR = "LOCAL_DEV_SIGNING_KEYS";

/** @typedef {import("../context.js").CommandContext} CommandContext */
/** @typedef {{ keys: import("jose").JWK[] }} JwkSet */

export const signingKeyCommands = {
  generate: { run: generate, usage: "keys generate [--alg ES256] [--out FILE | --local] [--env production]" },
  rotate: { run: rotate, usage: "keys rotate [--current FILE | < FILE | --local] [--alg ES256] [--out FILE] [--env production]   (SIGNING_KEYS) | keys rotate [--remove-previous]   (the server's key ring)" },
  status: { run: status, usage: "keys status   (the server's signing keys: GET /admin/keys)" },
  promote: { run: promote, usage: "keys promote [--kid KID (default: the last key)] [--current FILE | < FILE | --local] [--out FILE] [--env production]" },
  retire: { run: retire, usage: "keys retire --kid KID [--current FILE | < FILE | --local] [--out FILE] [--env production]" },
  show: { run: show, usage: "keys show [--current FILE | < FILE | --local]" },
};

/**
 * The next step for a new value: `wrangler secret put` for the environment named by --env (default
 * production; a put without --env would go to the top level's local-dev Worker), or a restart.
 * @param {CommandContext} ctx @param {string} file
 */
const put = (ctx, file) =>
  ctx.args.flags.local === true
    ? "restart the local server (it reads .dev.vars at start)"
    : `npx wrangler secret put SIGNING_KEYS --env ${flag(ctx.args, "env") ?? "production"} < ${file}`;

/** @param {CommandContext} ctx */
async function generate(ctx) {
  noPositionals(ctx);
  const { privateJwk, kid } = await generateKeyPairJwk(checkAlg(flag(ctx.args, "alg")));
  const file = await emit(ctx, { keys: [privateJwk] });
  ctx.note(`New SIGNING_KEYS with one key, ${kid} (${privateJwk.alg}). Store the value in your secret manager, then:`);
  ctx.note(`  ${put(ctx, file ?? "signing-keys.json")}`);
}

/**
 * `keys rotate`: a SIGNING_KEYS value given (--current, --local or stdin) gets a new key appended;
 * none given, the server's key ring rotates (the emergency rotation).
 * @param {CommandContext} ctx
 */
async function rotate(ctx) {
  noPositionals(ctx);
  const given = flag(ctx.args, "current") !== undefined || ctx.args.flags.local === true;
  // Only a terminal means "no value given": any other failure to read stdin is reported, never
  // taken for an emergency rotation on the server.
  const piped = given || ctx.args.flags["remove-previous"] === true ? "" : await ctx.io.readStdin().catch((err) => {
    if (err instanceof StdinIsTerminalError) return "";
    throw err;
  });
  if (!given && piped.trim() === "") return rotateRing(ctx);
  if (ctx.args.flags["remove-previous"] === true) throw new UsageError("--remove-previous is for the server's key ring: give no SIGNING_KEYS value");
  const current = await readCurrent(ctx, given ? undefined : piped);
  const { privateJwk, kid } = await generateKeyPairJwk(checkAlg(flag(ctx.args, "alg") ?? current.keys[0]?.alg));
  // Appended after the keys already there: published at once, signing only after `keys promote`.
  const next = { keys: [...current.keys, privateJwk] };
  const file = (await emit(ctx, next)) ?? "next.json";
  const promoted = sibling(file, "promoted.json");
  const active = /** @type {string} */ (current.keys[0]?.kid);
  const local = ctx.args.flags.local === true;
  ctx.note(`Appended ${kid} (${privateJwk.alg}); the active key is still ${active}. The new key is published but does not sign yet.`);
  ctx.note(`  1. ${put(ctx, file)}`);
  ctx.note("  2. Wait until every resource server has refetched /.well-known/jwks.json: it is served with");
  ctx.note("     max-age=300, so at least 5 minutes plus your resource servers' own JWKS cache time.");
  ctx.note(`  3. npm run -s cli -- keys promote --kid ${kid} ${local ? "--local" : `--current ${file} --out ${promoted}`}, then ${put(ctx, promoted)}`);
  ctx.note(`  4. After the longest access token lifetime (ACCESS_TOKEN_TTL, default ${DEFAULT_ACCESS_TOKEN_TTL_SECONDS} s, or a larger client`);
  ctx.note(`     access_token_ttl): npm run -s cli -- keys retire --kid ${active} ${local ? "--local" : `--current ${promoted} --out ${sibling(file, "final.json")}`}, then ${put(ctx, sibling(file, "final.json"))}`);
}

/** @param {CommandContext} ctx */
async function promote(ctx) {
  noPositionals(ctx);
  const current = await readCurrent(ctx);
  const kid = flag(ctx.args, "kid") ?? current.keys.at(-1)?.kid;
  const index = current.keys.findIndex((k) => k.kid === kid);
  if (index === -1) throw new CliError(`no key with kid "${kid}" in the current SIGNING_KEYS`);
  if (index === 0) throw new CliError(`${kid} is already the active (signing) key`);
  const promoted = /** @type {import("jose").JWK} */ (current.keys[index]);
  const previous = /** @type {string} */ (current.keys[0]?.kid);
  const file = (await emit(ctx, { keys: [promoted, ...current.keys.filter((_, i) => i !== index)] })) ?? "promoted.json";
  ctx.note(`${kid} now signs new tokens; ${previous} stays published so tokens it signed keep verifying.`);
  ctx.note(`  1. ${put(ctx, file)}`);
  ctx.note(`  2. After the longest access token lifetime: npm run -s cli -- keys retire --kid ${previous} ${ctx.args.flags.local === true ? "--local" : `--current ${file}`}`);
}

/** @param {CommandContext} ctx */
async function retire(ctx) {
  noPositionals(ctx);
  const kid = flag(ctx.args, "kid");
  if (kid === undefined) throw new UsageError("--kid is required (the key to remove)");
  const current = await readCurrent(ctx);
  const index = current.keys.findIndex((k) => k.kid === kid);
  if (index === -1) throw new CliError(`no key with kid "${kid}" in the current SIGNING_KEYS`);
  if (index === 0) throw new CliError(`${kid} is the active (signing) key: promote another key first`);
  const file = (await emit(ctx, { keys: current.keys.filter((_, i) => i !== index) })) ?? "final.json";
  ctx.note(`Removed ${kid}. Tokens it signed stop verifying once resource servers refetch the JWKS; retire a key`);
  ctx.note(`only after the longest access token lifetime has passed since it stopped signing. Then: ${put(ctx, file)}`);
}

/** @param {CommandContext} ctx */
async function show(ctx) {
  noPositionals(ctx);
  const current = await readCurrent(ctx);
  current.keys.forEach((k, i) => ctx.out(`${k.kid}  ${k.alg}  ${i === 0 ? "active (signs and is published)" : "published (verifies only)"}`));
}

/**
 * The current SIGNING_KEYS value from --current FILE, .dev.vars (--local) or stdin, checked as
 * the server checks it.
 * @param {CommandContext} ctx
 * @param {string} [stdin] stdin, when the caller has read it already
 * @returns {Promise<JwkSet>}
 */
async function readCurrent(ctx, stdin) {
  const file = flag(ctx.args, "current");
  const local = ctx.args.flags.local === true;
  if (file !== undefined && local) throw new UsageError("give --current or --local, not both");
  let text;
  try {
    if (local) {
      text = readDevVar(await ctx.io.readFile(DEV_VARS_FILE).catch(() => ""), LOCAL_SIGNING_KEYS_VAR) ?? "";
      if (text === "") throw new CliError(`${DEV_VARS_FILE} has no ${LOCAL_SIGNING_KEYS_VAR} (the local server uses its generated key): start with \`keys generate --local\``);
    } else {
      text = file !== undefined ? await ctx.io.readFile(file) : (stdin ?? (await ctx.io.readStdin()));
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${file ?? "stdin"}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const where = local ? `${LOCAL_SIGNING_KEYS_VAR} in ${DEV_VARS_FILE}` : (file ?? "stdin");
  if (text.trim() === "") throw new UsageError(`the current SIGNING_KEYS value is empty: pipe it in or pass --current FILE`);
  /** @type {any} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`${where} is not JSON (expected the SIGNING_KEYS JWK Set)`);
  }
  if (!value || !Array.isArray(value.keys) || value.keys.length === 0) throw new CliError(`${where} is not a JWK Set with at least one key`);
  const kids = new Set();
  for (const [i, key] of value.keys.entries()) {
    if (typeof key?.kid !== "string" || typeof key.alg !== "string") throw new CliError(`${where}: key ${i} needs "kid" and "alg"`);
    if (typeof key.d !== "string") throw new CliError(`${where}: key ${i} ("${key.kid}") is a public key; SIGNING_KEYS holds private keys`);
    if (kids.has(key.kid)) throw new CliError(`${where}: kid "${key.kid}" appears twice`);
    kids.add(key.kid);
  }
  return value;
}

/**
 * The next value: one line on stdout (piped straight into `wrangler secret put`), or to --out
 * FILE (0600, never over an existing file), or LOCAL_DEV_SIGNING_KEYS in .dev.vars (--local).
 * @param {CommandContext} ctx
 * @param {JwkSet} set
 * @returns {Promise<string | undefined>} the file written, if any
 */
async function emit(ctx, set) {
  const value = JSON.stringify(set);
  const out = flag(ctx.args, "out");
  if (ctx.args.flags.local === true) {
    if (out !== undefined) throw new UsageError("give --out or --local, not both");
    const text = await ctx.io.readFile(DEV_VARS_FILE).catch(() => "");
    await ctx.io.writeFile(DEV_VARS_FILE, setDevVar(text, LOCAL_SIGNING_KEYS_VAR, value), { mode: 0o600, exclusive: false });
    ctx.note(`Wrote ${LOCAL_SIGNING_KEYS_VAR} to ${DEV_VARS_FILE}; the local server uses it (instead of its generated key) once restarted.`);
    return DEV_VARS_FILE;
  }
  if (out === undefined) {
    ctx.out(value);
    return undefined;
  }
  try {
    await ctx.io.writeFile(out, `${value}\n`, { mode: 0o600, exclusive: true });
  } catch (err) {
    throw new CliError(`cannot write ${out}: ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.note(`Wrote the SIGNING_KEYS value to ${out} (mode 0600). Keep it in your secret manager and delete the file.`);
  return out;
}

/**
 * @typedef {{ kid: string, alg: string, state: string, source: string, published_at: number | null, signs_from: number | null,
 *   signs_until: number | null, unpublished_at: number | null }} ListedKey
 * @typedef {{ rotation: "auto" | "manual", schedule: { lifetime: number, publish_ahead: number, retain: number } | null,
 *   jwks_max_age: number, keys: ListedKey[] }} KeyListing
 */

/** @param {CommandContext} ctx */
async function status(ctx) {
  noPositionals(ctx);
  /** @type {KeyListing} */
  const listing = await ctx.admin("GET", "/admin/keys");
  if (ctx.json) return ctx.out(JSON.stringify(listing, null, 2));
  printListing(ctx, listing);
}

/** @param {CommandContext} ctx */
async function rotateRing(ctx) {
  const removePrevious = ctx.args.flags["remove-previous"] === true;
  if (flag(ctx.args, "out") !== undefined || flag(ctx.args, "alg") !== undefined) {
    throw new UsageError("--out and --alg are for a SIGNING_KEYS value: give it with --current FILE, --local or on stdin");
  }
  /** @type {KeyListing & { kid: string, signs_from: number, previous: string[] }} */
  const result = await ctx.admin("POST", "/admin/keys/rotate", removePrevious ? { remove_previous: true } : undefined);
  if (ctx.json) return ctx.out(JSON.stringify(result, null, 2));
  printListing(ctx, result);
  ctx.note(`${result.kid} signs from ${iso(result.signs_from)} (every instance switches then).`);
  if (removePrevious) {
    // Every key that signed before goes at the switch, not only the last one (SPEC §12).
    for (const kid of result.previous) ctx.note(`${kid} is removed then: tokens it signed stop verifying once verifiers refetch the JWKS (at most max-age ${result.jwks_max_age} s).`);
    return;
  }
  for (const key of result.keys.filter((k) => k.source === "ring" && k.kid !== result.kid && k.signs_until === result.signs_from)) {
    ctx.note(`${key.kid} stops signing then and stays published until ${iso(key.unpublished_at)}, so its tokens keep verifying.`);
  }
}

/**
 * One line per key: kid, alg, state, source, and its instants (UTC).
 * @param {CommandContext} ctx
 * @param {KeyListing} listing
 */
function printListing(ctx, listing) {
  const schedule = listing.schedule;
  ctx.out(schedule === null
    ? `rotation: manual (SIGNING_KEYS); JWKS max-age ${listing.jwks_max_age} s`
    : `rotation: auto (lifetime ${schedule.lifetime} s, publish ahead ${schedule.publish_ahead} s, retain ${schedule.retain} s); JWKS max-age ${listing.jwks_max_age} s`);
  for (const key of listing.keys) {
    const times = key.source === "ring" ? `  published ${iso(key.published_at)}  signs ${iso(key.signs_from)} – ${iso(key.signs_until)}  unpublished ${iso(key.unpublished_at)}` : "";
    ctx.out(`${key.kid}  ${key.alg}  ${key.state}  ${key.source}${times}`);
  }
}

/** @param {number | null} seconds */
const iso = (seconds) => (seconds === null ? "-" : new Date(seconds * 1000).toISOString().replace(".000Z", "Z"));

/** @param {CommandContext} ctx */
function noPositionals(ctx) {
  if (ctx.args.positionals.length > 0) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
}

/**
 * `name` in the directory of `file` (so the suggested next files land beside the current one).
 * @param {string} file
 * @param {string} name
 */
function sibling(file, name) {
  const slash = file.lastIndexOf("/");
  return slash === -1 ? name : `${file.slice(0, slash + 1)}${name}`;
}
