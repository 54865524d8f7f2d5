// @ts-check
/**
 * The CLI's view of SPEC §11: `--quota LIMIT/WINDOW[,observe]` (`1000/1h`, `50/60`, `10000/1d,observe`,
 * `none` to remove) and the usage sparkline. The server validates the bounds again.
 */
import { UsageError } from "./args.js";
import { QUOTA_LIMIT_MAX, QUOTA_LIMIT_MIN, QUOTA_MODES, QUOTA_WINDOW_MAX_SECONDS, QUOTA_WINDOW_MIN_SECONDS } from "../core/quota-names.js";

/** Seconds per window unit; a bare number is seconds. */
const UNITS = /** @type {const} */ ({ s: 1, m: 60, h: 3600, d: 86_400 });

/**
 * Parse `--quota`.
 * @param {string} text
 * @returns {{ limit: number, window: number, mode: "enforce" | "observe" } | null} null for `none`
 * @throws {UsageError} naming what is wrong
 */
export function parseQuota(text) {
  if (text === "none") return null;
  const match = /^(\d+)\/(\d+)([smhd]?)(?:,([a-z]+))?$/.exec(text.trim());
  if (!match) throw new UsageError(`--quota must be LIMIT/WINDOW[,observe] (e.g. 1000/1h, 50/60s, 10000/1d,observe) or none, not "${text}"`);
  const limit = Number(match[1]);
  const window = Number(match[2]) * UNITS[/** @type {keyof typeof UNITS} */ (match[3] || "s")];
  const mode = match[4] ?? "enforce";
  if (!(/** @type {readonly string[]} */ (QUOTA_MODES)).includes(mode)) throw new UsageError(`--quota mode must be ${QUOTA_MODES.join(" or ")}, not "${mode}"`);
  if (limit < QUOTA_LIMIT_MIN || limit > QUOTA_LIMIT_MAX) throw new UsageError(`--quota LIMIT must be ${QUOTA_LIMIT_MIN}-${QUOTA_LIMIT_MAX}`);
  if (window < QUOTA_WINDOW_MIN_SECONDS || window > QUOTA_WINDOW_MAX_SECONDS) throw new UsageError(`--quota WINDOW must be ${QUOTA_WINDOW_MIN_SECONDS} s to ${QUOTA_WINDOW_MAX_SECONDS / 86_400} days`);
  return { limit, window, mode: /** @type {"enforce" | "observe"} */ (mode) };
}

/**
 * A token_quota as the CLI shows it: `1000/1h enforce`.
 * @param {{ limit: number, window: number, mode: string }} quota
 */
export function formatQuota(quota) {
  return `${quota.limit}/${formatWindow(quota.window)} ${quota.mode}`;
}

/**
 * A window in the largest unit that divides it (`3600` → `1h`).
 * @param {number} seconds
 */
export function formatWindow(seconds) {
  for (const [unit, size] of /** @type {[string, number][]} */ ([["d", 86_400], ["h", 3600], ["m", 60]])) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

const BARS = "▁▂▃▄▅▆▇█";

/**
 * One character per count: `▁` for none, `▂`…`█` scaled to the largest, so an hour with any
 * token never looks like an hour with none.
 * @param {readonly number[]} counts
 */
export function sparkline(counts) {
  const max = Math.max(0, ...counts);
  return counts.map((n) => (n <= 0 ? BARS[0] : BARS[1 + Math.min(6, Math.floor(((n - 1) / Math.max(1, max - 1)) * 6.999))])).join("");
}
