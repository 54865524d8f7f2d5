// @ts-check
/**
 * The operator CLI (`ets`, `npm run cli --`): SPEC §6's client management API, client assertions
 * and tokens, and `SIGNING_KEYS` rotation. `runCli` takes all its I/O as an argument, so the
 * commands run unchanged under Node (src/cli/bin.js) and inside workerd for the tests.
 *
 * Exit codes: 0 success, 1 failure (one line on stderr, e.g. an API error), 2 usage error.
 */
import { CliError, parseArgs, UsageError } from "./args.js";
import { clientCommands } from "./commands/clients.js";
import { credentialCommands } from "./commands/credentials.js";
import { federatedCredentialCommands, federationCommands, trustedIssuerCommands } from "./commands/federation.js";
import { signingKeyCommands } from "./commands/signing-keys.js";
import { commandContext, DEFAULT_URL } from "./context.js";

/** @typedef {import("./context.js").CliIo} CliIo */
/** @typedef {{ run: (ctx: import("./context.js").CommandContext) => Promise<void>, usage: string }} Command */

const GLOBAL_FLAGS = { boolean: ["json", "help"], string: ["url", "admin-token", "admin-token-file"] };
const COMMAND_FLAGS = {
  boolean: ["local", "discovery", "shared", "allow-default-service-account", "remove-previous"],
  string: ["secret-file", "secret-out", "name", "auth", "alg", "scope", "out", "client-id", "jwks-uri", "ttl", "limit", "cursor", "kid", "public-key", "key", "secret", "aud", "lifetime", "typ", "current", "previous-valid-for", "shards", "location",
    "preset", "issuer", "jwks-file", "spiffe-bundle-endpoint", "max-token-lifetime", "jti-policy", "subject", "subject-pattern", "audience", "token-file", "credential-name"],
  multiple: ["resource", "allowed-alg", "immutable-claim", "claim", "grant"],
};

/** @type {Record<string, Record<string, Command>>} */
const GROUPS = { clients: { ...clientCommands, ...federatedCredentialCommands }, keys: signingKeyCommands, "trusted-issuers": trustedIssuerCommands, federation: federationCommands };
/** @type {Record<string, Command>} */
const TOP_LEVEL = credentialCommands;

/**
 * Run one CLI invocation.
 * @param {readonly string[]} argv  arguments after the program name
 * @param {CliIo} io
 * @returns {Promise<number>} the exit code
 */
export async function runCli(argv, io) {
  try {
    const args = parseArgs(argv, {
      boolean: [...GLOBAL_FLAGS.boolean, ...COMMAND_FLAGS.boolean],
      string: [...GLOBAL_FLAGS.string, ...COMMAND_FLAGS.string],
      multiple: COMMAND_FLAGS.multiple,
    });
    const [first, second] = args.positionals;
    /** @type {Command | undefined} */
    let command;
    if (first !== undefined && first in GROUPS) {
      const group = /** @type {Record<string, Command>} */ (GROUPS[first]);
      if (second === undefined || args.flags.help === true && !(second in group)) return help(io, first);
      command = group[second];
      if (!command) throw new UsageError(`unknown command "${first} ${second}"`);
      args.positionals.splice(0, 2);
    } else if (first !== undefined && first in TOP_LEVEL) {
      command = TOP_LEVEL[first];
      args.positionals.splice(0, 1);
    } else if (first === undefined || first === "help") {
      return help(io);
    } else {
      throw new UsageError(`unknown command "${first}"`);
    }
    if (!command) return help(io);
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
      "  --help               this text",
      "",
      "docs/operating.md walks through onboarding and every rotation.",
      "",
    ].join("\n"),
  );
  return 0;
}
