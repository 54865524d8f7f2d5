// @ts-check
/**
 * `ets clients usage ID`: a client's last 24 hours as one line an operator reads at a glance
 * (sparkline, total, peak hour) and, for a quota'd client, its current window. `--json` prints the
 * API's answer (GET /admin/clients/:id/usage, SPEC §11) for scripts.
 */
import { clientIdArg } from "../args.js";
import { formatQuota, sparkline } from "../quota.js";

/** @typedef {import("../context.js").CommandContext} CommandContext */

/** @type {Record<string, { run: (ctx: CommandContext) => Promise<void>, usage: string }>} */
export const usageCommands = {
  usage: { run: usage, usage: "clients usage ID [--json]   (last 24 hours: sparkline, total, peak hour; quota window)" },
};

/** @param {CommandContext} ctx */
async function usage(ctx) {
  const id = clientIdArg(ctx.args);
  const report = await ctx.admin("GET", `/admin/clients/${encodeURIComponent(id)}/usage`);
  if (ctx.json) return ctx.out(JSON.stringify(report, null, 2));
  /** @type {{ start: string, issued: number }[]} */
  const hours = report.hours;
  const total = hours.reduce((sum, h) => sum + h.issued, 0);
  const peak = hours.reduce((best, h) => (h.issued > best.issued ? h : best), hours[0] ?? { start: "", issued: 0 });
  const peakText = total === 0 ? "no tokens" : `peak ${peak.start.slice(0, 13).replace("T", " ")}:00Z ${peak.issued}`;
  ctx.out(`${report.client_id}  ${sparkline(hours.map((h) => h.issued))}  24h total ${total}, ${peakText}`);
  const quota = report.token_quota;
  const window = report.current_window;
  if (quota && window) {
    const refusals = quota.mode === "enforce" ? `${window.refused_quota} refused` : `${window.over_limit} over the limit (observed)`;
    ctx.out(`quota ${formatQuota(quota)}: ${window.issued} issued, ${window.remaining} remaining, ${refusals}; window ends ${window.end}`);
  }
}
