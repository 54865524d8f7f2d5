/**
 * GET /admin/clients/:client_id/usage (SPEC §11): a client's exact issued counts for the last 24
 * hours, summed over every object that counted them (its replay-guard objects, those of the trusted
 * issuers its federated credentials name, its counter), and the state of its quota window.
 */
import type { ClientRecord } from "../core/client-record.js";
import { HOUR_SECONDS, hourOf, quotaRemaining, USAGE_HOURS, type QuotaWindowState, type TokenQuota } from "../core/quota.js";
import type { QuotaCounters } from "../stores/quota-counter.js";
import { clientReplayScope, issuerReplayScope, sameTopology, type ReplayScope } from "../stores/replay-topology.js";
import { USAGE_RETENTION_SECONDS } from "../stores/usage-counts.js";

/** One hour of the report. */
export interface UsageHour {
  /** ISO 8601, the start of the UTC hour. */
  readonly start: string;
  readonly issued: number;
}

export interface UsageReport {
  readonly client_id: string;
  readonly token_quota: TokenQuota | null;
  readonly current_window: { readonly start: string; readonly end: string; readonly issued: number; readonly refused_quota: number; readonly over_limit: number; readonly remaining: number } | null;
  /** The last 24 hours, oldest first, the current one last. */
  readonly hours: readonly UsageHour[];
}

export interface UsageReportDependencies {
  readonly quotaCounters: Pick<QuotaCounters, "read" | "rememberTopologies">;
  /** The counts of `clientId` held by the objects of `scope` (stores/usage-reader.ts). */
  scopeUsage(scope: ReplayScope, clientId: string, sinceHour: number): Promise<readonly { readonly hour: number; readonly issued: number }[]>;
}

/** The usage of `client` at `now` (seconds). @throws OAuthError 503 when a count cannot be read. */
export async function usageReport(client: ClientRecord, now: number, deps: UsageReportDependencies): Promise<UsageReport> {
  const currentHour = hourOf(now);
  const since = currentHour - (USAGE_HOURS - 1) * HOUR_SECONDS;
  const quota = client.token_quota ?? null;
  const counter = await deps.quotaCounters.read(client, quota?.window ?? null, now, since);
  // The client's topologies in force, and those it left whose objects may still hold counts (each
  // once: an object counted twice would double its counts).
  const own = clientReplayScope(client, now);
  const left = counter.topologies.filter((t) => !own.topologies.some((o) => sameTopology(o, t)));
  const issuers = [...new Set((client.federated_credentials ?? []).map((credential) => credential.issuer))];
  const scopes: ReplayScope[] = [{ ...own, topologies: [...left, ...own.topologies] }, ...issuers.map(issuerReplayScope)];
  const scoped = await Promise.all(scopes.map((scope) => deps.scopeUsage(scope, client.client_id, since)));
  const byHour = new Map<number, number>();
  for (const { hour, issued } of [...counter.hours, ...scoped.flat()]) byHour.set(hour, (byHour.get(hour) ?? 0) + issued);
  const hours = Array.from({ length: USAGE_HOURS }, (_, i) => {
    const hour = since + i * HOUR_SECONDS;
    return { start: iso(hour), issued: byHour.get(hour) ?? 0 };
  });
  return { client_id: client.client_id, token_quota: quota, current_window: quota === null ? null : windowReport(quota, counter.window!), hours };
}

function windowReport(quota: TokenQuota, window: QuotaWindowState): NonNullable<UsageReport["current_window"]> {
  return {
    start: iso(window.start),
    end: iso(window.end),
    issued: window.issued,
    refused_quota: window.refused_quota,
    over_limit: window.over_limit,
    remaining: quotaRemaining(quota, window),
  };
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * After a registration change: the replay-guard topologies `client` left (`replay_guard_previous`)
 * stay readable by the usage report for as long as their objects may hold counts of the last 24
 * hours, after the record itself drops them (once their transition is over).
 */
export async function rememberLeftTopologies(client: ClientRecord, deps: Pick<UsageReportDependencies, "quotaCounters">): Promise<void> {
  const left = client.replay_guard_previous ?? [];
  if (left.length === 0) return;
  await deps.quotaCounters.rememberTopologies(client, left.map((t) => ({ ...t, until: t.until + USAGE_RETENTION_SECONDS })));
}
