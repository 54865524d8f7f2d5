/**
 * The defaults an operator reads are the code's (STYLE "Constants once"): every var the README
 * "Configuration" table gives one fixed default (`3600`, `compat`, …) is read by config.ts and
 * means, set to that value, what it means unset; every var a wrangler.toml block writes (ISSUER
 * aside: it has no default) is such a var, at that default. A default changed in one place only
 * (src/config.ts, src/core/protocol.js, README.md, any block of wrangler.toml) fails here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { describe, expect, it } from "vitest";

/** What the test reads of src/config.ts's SettingsSchema (zod/mini). */
interface VarsSchema {
  readonly shape: Record<string, unknown>;
  parse(vars: Record<string, string>): Record<string, unknown>;
}
// src/config.ts is Worker code: its types need the Worker's Env (tsconfig.json, not this Node-side
// project), so it is imported at run time only, by a specifier tsc does not follow.
const CONFIG_MODULE = "../../src/config.js";
const { SettingsSchema } = (await import(CONFIG_MODULE)) as { SettingsSchema: VarsSchema };

/** README "Configuration": each `var` row's name and, when it has one fixed value, its default. */
function readmeDefaults(): Map<string, string | undefined> {
  const readme = readFileSync(resolve("README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("**Local dev**"));
  const vars = new Map<string, string | undefined>();
  for (const line of table.split("\n")) {
    const cells = line.split(" | ").map((cell) => cell.replace(/^\|\s*|\s*\|$/g, "").trim());
    const name = /^`([A-Z_]+)`$/.exec(cells[0] ?? "")?.[1];
    if (name === undefined || cells[1] !== "var") continue;
    // `3600`, `compat`, `2592000` (30 days): one value. "the issuer", "`on` in local dev, `off` otherwise": none.
    vars.set(name, /^`([^`]+)`(?: \([^)]*\))?$/.exec(cells[2] ?? "")?.[1]);
  }
  return vars;
}

/** wrangler.toml's [vars] of the top level and of each [env.*], as wrangler reads them. */
function wranglerVarBlocks(): Map<string, Record<string, unknown>> {
  const { rawConfig } = experimental_readRawConfig({ config: resolve("wrangler.toml") });
  const blocks = new Map<string, Record<string, unknown>>([["[vars]", rawConfig.vars ?? {}]]);
  for (const [name, env] of Object.entries(rawConfig.env ?? {}) as [string, { vars?: Record<string, unknown> }][]) blocks.set(`[env.${name}.vars]`, env.vars ?? {});
  return blocks;
}

const shape = SettingsSchema.shape;
const unset = SettingsSchema.parse({});
/** What config.ts makes of `name` = `value` (a var as wrangler passes it: a string). */
const read = (name: string, value: unknown) => SettingsSchema.parse({ [name]: String(value) })[name];

describe("defaults: README, wrangler.toml and the code say the same", () => {
  const documented = readmeDefaults();
  const fixed = [...documented].filter((entry): entry is [string, string] => entry[1] !== undefined);

  it("reads the README table", () => {
    expect(fixed.map(([name]) => name)).toEqual(expect.arrayContaining(["ACCESS_TOKEN_TTL", "ASSERTION_MAX_LIFETIME", "CLOCK_SKEW", "AUDIENCE_MODE", "DPOP_NONCE", "REPLAY_GUARD_TIMEOUT_MS"]));
  });

  it("each README default is the code's: config.ts reads the var, and the value means what unset means", () => {
    for (const [name, value] of fixed) {
      expect(name in shape, `${name}: in README "Configuration" but not read by src/config.ts`).toBe(true);
      expect(read(name, value), `${name}: README says \`${value}\`, the code's default is ${JSON.stringify(unset[name])}`).toEqual(unset[name]);
    }
  });

  it("each default of the code has its README row", () => {
    for (const [name, value] of Object.entries(unset)) {
      if (value === undefined) continue; // no default (ISSUER, DEFAULT_AUDIENCE…): the README says what applies instead
      expect(documented.get(name), `${name}: the code's default ${JSON.stringify(value)} has no fixed default in README "Configuration"`).toBeDefined();
    }
  });

  it("every wrangler.toml block writes those defaults, and no var without one (ISSUER aside)", () => {
    const blocks = wranglerVarBlocks();
    expect([...blocks.keys()]).toEqual(expect.arrayContaining(["[vars]", "[env.production.vars]", "[env.staging.vars]"]));
    for (const [block, vars] of blocks) {
      for (const [name, value] of Object.entries(vars)) {
        if (name === "ISSUER") continue;
        expect(documented.get(name), `${block} ${name}: no fixed default in README "Configuration"`).toBeDefined();
        expect(read(name, value), `${block} ${name} = ${JSON.stringify(value)}, the code's default is ${JSON.stringify(unset[name])}`).toEqual(unset[name]);
      }
    }
  });
});
