/**
 * The one config loader (SPEC §5). `env` is read once per isolate into a typed, validated
 * `Settings`; a bad value is a `ConfigError` that names the setting. Secrets are resolved by the
 * stores that use them (stores/signing-keys.ts, stores/secret-box.ts), through `requireSecret`.
 */
import { isLoopbackHostname } from "./core/addresses.js";
import * as z from "./zod.js";
import type { AudienceMode } from "./core/client-record.js";
import { RING_CACHE_MAX_SECONDS, type KeyRingSchedule } from "./core/key-ring.js";
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, DEFAULT_ASSERTION_MAX_LIFETIME_SECONDS, DEFAULT_CLOCK_SKEW_SECONDS } from "./core/protocol.js";

/** Default of REPLAY_GUARD_TIMEOUT_MS: the wait for the replay guard before failing closed. */
const REPLAY_GUARD_TIMEOUT_MS = 3_000;

/** JWKS `Cache-Control: max-age` with operator-managed keys (SIGNING_KEYS), and its ceiling with automatic keys. */
export const JWKS_MAX_AGE_SECONDS = 300;
const DAY_SECONDS = 86_400;
/** SPEC §12 defaults: a key signs for 30 days, is published 2 days ahead and kept 2 days after. */
export const SIGNING_KEY_LIFETIME_DEFAULT_SECONDS = 30 * DAY_SECONDS;
export const SIGNING_KEY_PUBLISH_AHEAD_DEFAULT_SECONDS = 2 * DAY_SECONDS;
export const SIGNING_KEY_RETAIN_DEFAULT_SECONDS = 2 * DAY_SECONDS;
/** Upper bound of each schedule setting: a year. */
const SIGNING_KEY_SCHEDULE_MAX_SECONDS = 366 * DAY_SECONDS;

/** A missing or invalid setting. Rendered as 503 `temporarily_unavailable` naming the setting. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting} ${problem}`);
    this.name = "ConfigError";
  }
}

export type SampleRouteMode = "on" | "off" | "admin";
/** RFC 9449 §8: whether DPoP proofs at the token endpoint must carry a server-issued nonce. */
export type DpopNonceMode = "off" | "required";

export interface Settings {
  /** Issuer identifier; `undefined` only when unset (allowed for loopback requests in local dev). */
  issuer: string | undefined;
  /** Access token lifetime when the client sets none. Default DEFAULT_ACCESS_TOKEN_TTL_SECONDS. */
  accessTokenTtlSeconds: number;
  /** Longest accepted client assertion lifetime (SPEC §3 rule 8). Default DEFAULT_ASSERTION_MAX_LIFETIME_SECONDS. */
  assertionMaxLifetimeSeconds: number;
  /** Tolerated clock difference for exp/nbf/iat. Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds: number;
  /** Server-wide audience mode for client assertions (SPEC §3 rule 7). Default `compat`. */
  audienceMode: AudienceMode;
  /** `aud` of access tokens issued without `resource`. Default: the issuer. */
  defaultAudience: string | undefined;
  /** `/jwts` availability; `undefined` means "on for loopback, off otherwise". */
  sampleJwtRoute: SampleRouteMode | undefined;
  /** `DPOP_NONCE`: `required` makes every DPoP proof carry a fresh server nonce. Default `off`. */
  dpopNonce: DpopNonceMode;
  /** How long the token endpoint waits for the replay guard before failing closed (503). Default 3000. */
  replayGuardTimeoutMs: number;
  /**
   * SIGNING_KEY_ROTATION = "auto" (SPEC §12): the key ring's schedule; null when the signing keys
   * are operator-managed (`manual`, the default: SIGNING_KEYS).
   */
  keyRing: KeyRingSchedule | null;
  /**
   * `max-age` of /.well-known/jwks.json: 300 s with SIGNING_KEYS; with automatic keys derived from
   * the publish-ahead time, half of it and at most 300 s, so a verifier's copy that respects it is
   * refreshed twice while a new key is published ahead of signing.
   */
  jwksMaxAgeSeconds: number;
}

// zod/mini's transform context has no addIssue(): a problem is pushed onto ctx.issues directly.
/** A whole number from 1 to `max` (seconds, a count or milliseconds, as the setting says), else `fallback` when unset. */
const wholeNumber = (name: string, fallback: number, max: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((v: string | undefined, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > max) {
        ctx.issues.push({ code: "custom", message: `${name} must be a whole number from 1 to ${max}`, input: v });
        return z.NEVER;
      }
      return n;
    }),
  );

const absoluteUrl = (name: string) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((v: string | undefined, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      if (!URL.canParse(v) || new URL(v).hash !== "") {
        ctx.issues.push({ code: "custom", message: `${name} must be an absolute URL without fragment`, input: v });
        return z.NEVER;
      }
      return v;
    }),
  );

/**
 * SPEC §8: the issuer identifier is an origin: `https://host[:port]`, no path, query, fragment or
 * credentials (and so no trailing '/'); `http://` only to a loopback host, which context.ts then
 * allows in local dev only.
 */
const issuerOrigin = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined, ctx) => {
    if (v === undefined || v.trim() === "") return undefined;
    const url = URL.canParse(v) ? new URL(v) : undefined;
    const problem =
      url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")
        ? "must be an https:// URL"
        : url.protocol === "http:" && !isLoopbackHostname(url.hostname)
          ? "must be https:// (http:// only for a loopback host in local dev)"
          : v !== url.origin
            ? `must be an origin without path, query, fragment, credentials or trailing '/' (such as ${url.origin})`
            : undefined;
    if (problem !== undefined) {
      ctx.issues.push({ code: "custom", message: `ISSUER ${problem}`, input: v });
      return z.NEVER;
    }
    return v;
  }),
);

/**
 * Every var and how it is read; an unset var takes its default here, the one place defaults are
 * written (from core/protocol.js where the protocol names them). README "Configuration" and every
 * wrangler.toml block repeat them: test/node/config-defaults.test.ts checks they agree.
 */
export const SettingsSchema = z.object({
  ISSUER: issuerOrigin,
  ACCESS_TOKEN_TTL: wholeNumber("ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TOKEN_TTL_SECONDS, 86_400),
  ASSERTION_MAX_LIFETIME: wholeNumber("ASSERTION_MAX_LIFETIME", DEFAULT_ASSERTION_MAX_LIFETIME_SECONDS, 3600),
  CLOCK_SKEW: wholeNumber("CLOCK_SKEW", DEFAULT_CLOCK_SKEW_SECONDS, 300),
  AUDIENCE_MODE: z._default(z.optional(z.enum(["compat", "strict"])), "compat"),
  DEFAULT_AUDIENCE: absoluteUrl("DEFAULT_AUDIENCE"),
  SAMPLE_JWT_ROUTE: z.optional(z.enum(["on", "off", "admin"])),
  DPOP_NONCE: z._default(z.optional(z.enum(["off", "required"])), "off"),
  REPLAY_GUARD_TIMEOUT_MS: wholeNumber("REPLAY_GUARD_TIMEOUT_MS", REPLAY_GUARD_TIMEOUT_MS, 60_000),
  SIGNING_KEY_ROTATION: z._default(z.optional(z.enum(["manual", "auto"])), "manual"),
  SIGNING_KEY_LIFETIME: wholeNumber("SIGNING_KEY_LIFETIME", SIGNING_KEY_LIFETIME_DEFAULT_SECONDS, SIGNING_KEY_SCHEDULE_MAX_SECONDS),
  SIGNING_KEY_PUBLISH_AHEAD: wholeNumber("SIGNING_KEY_PUBLISH_AHEAD", SIGNING_KEY_PUBLISH_AHEAD_DEFAULT_SECONDS, SIGNING_KEY_SCHEDULE_MAX_SECONDS),
  SIGNING_KEY_RETAIN: wholeNumber("SIGNING_KEY_RETAIN", SIGNING_KEY_RETAIN_DEFAULT_SECONDS, SIGNING_KEY_SCHEDULE_MAX_SECONDS),
});

const cache = new WeakMap<object, Settings>();

/**
 * Parse the Worker's settings once per `env` object (one per isolate in production).
 * @throws ConfigError naming the first invalid setting.
 */
export function loadSettings(env: Env): Settings {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? "configuration");
    throw new ConfigError(setting, `is invalid: ${issue.message}`);
  }
  const v = parsed.data;
  const keyRing = v.SIGNING_KEY_ROTATION === "auto" ? keyRingSchedule(v.SIGNING_KEY_LIFETIME, v.SIGNING_KEY_PUBLISH_AHEAD, v.SIGNING_KEY_RETAIN, v.ACCESS_TOKEN_TTL + v.CLOCK_SKEW) : null;
  const settings: Settings = {
    issuer: v.ISSUER,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL,
    assertionMaxLifetimeSeconds: v.ASSERTION_MAX_LIFETIME,
    clockSkewSeconds: v.CLOCK_SKEW,
    audienceMode: v.AUDIENCE_MODE,
    defaultAudience: v.DEFAULT_AUDIENCE,
    sampleJwtRoute: v.SAMPLE_JWT_ROUTE,
    dpopNonce: v.DPOP_NONCE,
    replayGuardTimeoutMs: v.REPLAY_GUARD_TIMEOUT_MS,
    keyRing,
    jwksMaxAgeSeconds: keyRing === null ? JWKS_MAX_AGE_SECONDS : jwksMaxAgeFor(v.SIGNING_KEY_PUBLISH_AHEAD),
  };
  cache.set(env, settings);
  return settings;
}

/** JWKS max-age with automatic keys: half the publish-ahead time, from 1 s to JWKS_MAX_AGE_SECONDS. */
export function jwksMaxAgeFor(publishAheadSeconds: number): number {
  return Math.min(JWKS_MAX_AGE_SECONDS, Math.max(1, Math.floor(publishAheadSeconds / 2)));
}

/**
 * SPEC §12 start checks of the schedule, each naming its var. Beyond the SPEC's three: a key is
 * published ahead for less than it signs and retained no longer than it signs, so at most three
 * keys are published at once in steady state (the previous, the signing and the next).
 * @param longestTokenSeconds ACCESS_TOKEN_TTL + CLOCK_SKEW.
 */
function keyRingSchedule(lifetime: number, publishAhead: number, retain: number, longestTokenSeconds: number): KeyRingSchedule {
  const maxAge = jwksMaxAgeFor(publishAhead);
  if (publishAhead < 2 * maxAge) {
    throw new ConfigError("SIGNING_KEY_PUBLISH_AHEAD", `must be at least twice the JWKS max-age derived from it (2 × ${maxAge} s): at least ${2 * maxAge} seconds`);
  }
  if (publishAhead >= lifetime) {
    throw new ConfigError("SIGNING_KEY_PUBLISH_AHEAD", `must be less than SIGNING_KEY_LIFETIME (${lifetime} s): a key is published ahead for less time than it signs`);
  }
  if (retain < longestTokenSeconds) {
    throw new ConfigError("SIGNING_KEY_RETAIN", `must be at least ACCESS_TOKEN_TTL + CLOCK_SKEW (${longestTokenSeconds} s), so every token verifies until it expires`);
  }
  if (retain > lifetime) {
    throw new ConfigError("SIGNING_KEY_RETAIN", `must be at most SIGNING_KEY_LIFETIME (${lifetime} s), so at most three keys are published at once`);
  }
  return { lifetimeSeconds: lifetime, publishAheadSeconds: publishAhead, retainSeconds: retain, cacheSeconds: Math.min(RING_CACHE_MAX_SECONDS, maxAge) };
}

/** Shortest accepted ADMIN_TOKEN (SPEC §8): 32 characters, e.g. `openssl rand -base64 32`. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;

/** A secret that is not set at all (as opposed to one set to a value that cannot be used). */
export class MissingSecretError extends ConfigError {}

/**
 * A secret's value, or a ConfigError naming it (the value itself is never logged).
 * @throws MissingSecretError when it is not set.
 */
export function requireSecret(env: Env, name: "ADMIN_TOKEN" | "SIGNING_KEYS" | "CLIENT_SECRET_KEY"): string {
  const value = env[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new MissingSecretError(name, `secret is missing: set it with \`npx wrangler secret put ${name} --env <environment>\``);
  }
  if (name === "ADMIN_TOKEN" && value.length < ADMIN_TOKEN_MIN_LENGTH) {
    throw new ConfigError(name, `must have at least ${ADMIN_TOKEN_MIN_LENGTH} characters (generate one with \`openssl rand -base64 32\`)`);
  }
  const guessable = name === "ADMIN_TOKEN" ? guessableTokenProblem(value) : undefined;
  if (guessable !== undefined) {
    throw new ConfigError(name, `is trivially guessable (${guessable}); generate one with \`openssl rand -base64 32\``);
  }
  return value;
}

/** Fewest distinct characters an ADMIN_TOKEN may have: a random 32-character hex token has about 14. */
const ADMIN_TOKEN_MIN_DISTINCT_CHARACTERS = 8;

/**
 * SPEC §8: why a token that is long enough is still trivially guessable, or undefined: one
 * character repeated, a short unit repeated (`abab…`, `password…`), a run up or down the character
 * table (`abcdef…`, `9876…`), or too few distinct characters. Never names the value.
 */
export function guessableTokenProblem(token: string): string | undefined {
  if (new Set(token).size === 1) return "one repeated character";
  for (let unit = 2; unit <= token.length / 2; unit++) {
    if (token === token.slice(0, unit).repeat(Math.ceil(token.length / unit)).slice(0, token.length)) return `a ${unit}-character unit repeated`;
  }
  const steps = [...token].slice(1).map((ch, i) => ch.charCodeAt(0) - token.charCodeAt(i));
  const longestRun = Math.max(...[1, -1].map((step) => steps.filter((s) => s === step).length));
  if (longestRun >= steps.length * 0.75) return "a run of consecutive characters";
  if (new Set(token).size < ADMIN_TOKEN_MIN_DISTINCT_CHARACTERS) return `only ${new Set(token).size} distinct characters`;
  return undefined;
}
