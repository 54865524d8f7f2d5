// @ts-check
/**
 * Command-line parsing for the operator CLI: `--flag value`, `--flag=value`, boolean switches,
 * repeatable flags and positionals. Small on purpose (no Node-only `util.parseArgs`), so the CLI's
 * command layer also runs inside workerd for the tests.
 */

/** A usage mistake: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure the operator should read (an API error, a bad file): one line on stderr, exit code 1. */
export class CliError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "CliError";
  }
}

/** stdin is a terminal, so no value was piped in: for `keys rotate`, "no value given". */
export class StdinIsTerminalError extends CliError {
  constructor() {
    super("stdin is a terminal: pipe the value in or pass --current FILE");
    this.name = "StdinIsTerminalError";
  }
}

/**
 * @typedef {object} FlagSpec
 * @property {readonly string[]} [boolean]   switches without a value (`--json`)
 * @property {readonly string[]} [string]    flags with one value (`--name N`)
 * @property {readonly string[]} [multiple]  flags that may repeat (`--resource A --resource B`)
 */

/**
 * @typedef {object} ParsedArgs
 * @property {string[]} positionals
 * @property {Record<string, string | boolean | string[] | undefined>} flags
 */

/**
 * Parse `argv` against `spec`.
 * @param {readonly string[]} argv
 * @param {FlagSpec} spec
 * @returns {ParsedArgs}
 * @throws {UsageError} on an unknown flag, a missing value or a repeated single-value flag.
 */
export function parseArgs(argv, spec) {
  const booleans = new Set(spec.boolean ?? []);
  const strings = new Set(spec.string ?? []);
  const multiple = new Set(spec.multiple ?? []);
  /** @type {ParsedArgs} */
  const parsed = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (arg === "--") {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      parsed.flags[name] = true;
      continue;
    }
    if (!strings.has(name) && !multiple.has(name)) throw new UsageError(`unknown option --${name}`);
    let value;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    if (multiple.has(name)) {
      const list = /** @type {string[] | undefined} */ (parsed.flags[name]) ?? [];
      list.push(value);
      parsed.flags[name] = list;
    } else {
      if (parsed.flags[name] !== undefined) throw new UsageError(`--${name} given twice`);
      parsed.flags[name] = value;
    }
  }
  return parsed;
}

/**
 * A string flag's value.
 * @param {ParsedArgs} args
 * @param {string} name
 * @returns {string | undefined}
 */
export function flag(args, name) {
  const value = args.flags[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A required string flag's value.
 * @param {ParsedArgs} args
 * @param {string} name
 * @returns {string}
 * @throws {UsageError}
 */
export function requiredFlag(args, name) {
  const value = flag(args, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * @param {ParsedArgs} args
 * @param {string} name
 * @returns {string[]}
 */
export function listFlag(args, name) {
  const value = args.flags[name];
  return Array.isArray(value) ? value : [];
}

/**
 * The client id: first positional or `--client-id`.
 * @param {ParsedArgs} args
 * @returns {string}
 * @throws {UsageError}
 */
export function clientIdArg(args) {
  const id = args.positionals[0] ?? flag(args, "client-id");
  if (id === undefined || id === "") throw new UsageError("a client id is required (as the first argument or --client-id)");
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument "${args.positionals[1]}"`);
  return id;
}

/**
 * A whole number flag.
 * @param {ParsedArgs} args
 * @param {string} name
 * @param {number} [min] the smallest value accepted (default 1)
 * @returns {number | undefined}
 * @throws {UsageError}
 */
export function integerFlag(args, name, min = 1) {
  const value = flag(args, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
  return n;
}
