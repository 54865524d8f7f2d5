// @ts-check
/**
 * The operator CLI (`ets`, `npm run cli --`): SPEC §6's client management API, client assertions
 * and tokens, and `SIGNING_KEYS` rotation. `runCli` takes all its I/O as an argument, so the
 * commands run unchanged under Node (src/cli/bin.js) and inside workerd for the tests.
 *
 * Exit codes: 0 success, 1 failure (one line on stderr, e.g. an API error), 2 usage error (a
 * mistyped command gets a "did you mean", an option the command does not take is refused rather
 * than ignored).
 */
import { CliError, parseArgs, UsageError } from "./args.js";
import { clientCommands } from "./commands/clients.js";
import { credentialCommands } from "./commands/credentials.js";
import { federatedCredentialCommands, federationCommands, trustedIssuerCommands } from "./commands/federation.js";
import { signingKeyCommands } from "./commands/signing-keys.js";
import { usageCommands } from "./commands/usage.js";
import { DEFAULT_URL } from "./configuration.js";
import { commandContext } from "./context.js";

/** @typedef {import("./context.js").CliIo} CliIo */
/** @typedef {{ run: (ctx: import("./context.js").CommandContext) => Promise<void>, usage: string }} Command */

const GLOBAL_FLAGS = { boolean: ["json", "help", "version"], string: ["url", "admin-token", "admin-token-file"] };
const COMMAND_FLAGS = {
  boolean: ["local", "discovery", "shared", "not-shared", "allow-default-service-account", "remove-previous"],
  string: ["secret-file", "secret-out", "name", "auth", "alg", "scope", "out", "client-id", "jwks-uri", "ttl", "limit", "cursor", "kid", "public-key", "key", "secret", "aud", "lifetime", "typ", "current", "previous-valid-for", "shards", "location", "quota",
    "preset", "issuer", "jwks-file", "spiffe-bundle-endpoint", "max-token-lifetime", "jti-policy", "subject", "subject-pattern", "audience", "token-file", "credential-name", "env"],
  multiple: ["resource", "allowed-alg", "immutable-claim", "claim", "grant"],
};

/** @type {Record<string, Record<string, Command>>} */
const GROUPS = { clients: { ...clientCommands, ...usageCommands, ...federatedCredentialCommands }, keys: signingKeyCommands, "trusted-issuers": trustedIssuerCommands, federation: federationCommands };
/** @type {Record<string, Command>} */
const TOP_LEVEL = credentialCommands;

/**
 * Run one CLI invocation.
 * @param {readonly string[]} argv  arguments after the program name
 * @param {CliIo} io
 * @param {{ version?: string }} [about]  what `ets --version` prints (bin.js reads it from package.json)
 * @returns {Promise<number>} the exit code
 */
export async function runCli(argv, io, about = {}) {
  try {
    const args = parseArgs(argv, {
      boolean: [...GLOBAL_FLAGS.boolean, ...COMMAND_FLAGS.boolean],
      string: [...GLOBAL_FLAGS.string, ...COMMAND_FLAGS.string],
      multiple: COMMAND_FLAGS.multiple,
    });
    const [first, second] = args.positionals;
    if (args.flags.version === true) {
      io.stdout(`ets ${about.version ?? "(version unknown)"}\n`);
      return 0;
    }
    /** @type {Command | undefined} */
    let command;
    if (first !== undefined && first in GROUPS) {
      const group = /** @type {Record<string, Command>} */ (GROUPS[first]);
      if (second === undefined || args.flags.help === true && !(second in group)) return help(io, first);
      command = group[second];
      if (!command) throw new UsageError(`unknown command "${first} ${second}"${didYouMean(second, Object.keys(group), `${first} `)}`);
      args.positionals.splice(0, 2);
    } else if (first !== undefined && first in TOP_LEVEL) {
      command = TOP_LEVEL[first];
      args.positionals.splice(0, 1);
    } else if (first === undefined || first === "help") {
      return help(io);
    } else {
      throw new UsageError(`unknown command "${first}"${didYouMean(first, [...Object.keys(GROUPS), ...Object.keys(TOP_LEVEL)])}`);
    }
    if (!command) return help(io);
    for (const name of Object.keys(args.flags)) {
      if (!GLOBAL_OPTIONS.has(name) && !optionsOf(command).has(name)) {
        throw new UsageError(`--${name} is not an option of this command (usage: ets ${command.usage})`);
      }
    }
    if (args.flags.help === true) {
      io.stdout(`usage: ets ${command.usage}\n`);
      return 0;
    }
    await command.run(commandContext(io, args));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ets: ${err.message} (see ets --help)\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`ets: ${err.message}\n`);
      return 1;
    }
    io.stderr(`ets: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const GLOBAL_OPTIONS = new Set([...GLOBAL_FLAGS.boolean, ...GLOBAL_FLAGS.string]);

/**
 * The options a command takes: the ones its usage names, `--client-id` where it takes an `ID`,
 * `--issuer` for an `ISSUER`, and `--secret` (which warns) beside `--secret-file`.
 * @param {Command} command
 * @returns {Set<string>}
 */
function optionsOf(command) {
  const names = new Set([...command.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => /** @type {string} */ (m[1])));
  if (/ ID\b/.test(command.usage)) names.add("client-id");
  if (/ ISSUER\b/.test(command.usage)) names.add("issuer");
  if (names.has("secret-file")) names.add("secret");
  return names;
}

/**
 * ` (did you mean "…"?)` for the candidate nearest to a mistyped word, if one is near enough.
 * @param {string} typed
 * @param {readonly string[]} candidates
 * @param {string} [prefix]  printed before the suggestion (the group of a subcommand)
 * @returns {string}
 */
function didYouMean(typed, candidates, prefix = "") {
  let best = { name: "", distance: Infinity };
  for (const name of candidates) {
    const distance = editDistance(typed.toLowerCase(), name);
    if (distance < best.distance) best = { name, distance };
  }
  const nearEnough = best.distance <= Math.max(1, Math.floor(best.name.length / 3)) || best.name.startsWith(typed) && typed.length >= 3;
  return nearEnough ? ` (did you mean "${prefix}${best.name}"?)` : "";
}

/**
 * Levenshtein distance (insertions, deletions, substitutions).
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
function editDistance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(/** @type {number} */ (previous[j]) + 1, /** @type {number} */ (row[j - 1]) + 1, /** @type {number} */ (previous[j - 1]) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return /** @type {number} */ (previous[b.length]);
}

/**
 * @param {CliIo} io
 * @param {string} [group]
 * @returns {number}
 */
function help(io, group) {
  const commands = group ? Object.values(/** @type {Record<string, Command>} */ (GROUPS[group])) : [...Object.values(GROUPS).flatMap((g) => Object.values(g)), ...Object.values(TOP_LEVEL)];
  io.stdout(
    [
      "ets: operate edge-token-service (npm run -s cli -- <command>)",
      "",
      "commands:",
      ...commands.map((c) => `  ${c.usage}`),
      "",
      "options for every command:",
      `  --url URL            the service (env ETS_URL; default ${DEFAULT_URL})`,
      "  --admin-token-file FILE  admin bearer token from a file (or env ETS_ADMIN_TOKEN / ETS_ADMIN_TOKEN_FILE;",
      "                       for a loopback URL, ADMIN_TOKEN in .dev.vars). --admin-token TOKEN works but warns.",
      "                       Credentials go over https only, or http to 127.0.0.0/8, ::1, localhost.",
      "  --json               print the API's JSON instead of a summary",
      "  --help               this text (ets --version: the version)",
      "",
      "docs/operating.md walks through onboarding and every rotation.",
      "",
    ].join("\n"),
  );
  return 0;
}
