/**
 * The benchmark's Markdown report: the configuration measured, the main table, the targets,
 * bundle size, cold start, correctness checks of every row, and the setup it was measured on.
 */

/** Targets (issue 17), each on the median over the interleaved rounds of per-round ratios. */
export const TARGETS = {
  /** our tokens/s ÷ node-oidc-provider's, in-memory adapter: at least */
  vsMemoryPeer: 1.15,
  /** our server CPU per token ÷ the design floor's: at most */
  vsDesignFloor: 1.1,
  /** our p99 ÷ node-oidc-provider's (in-memory) at the same connection count: at most */
  p99VsMemoryPeer: 1.25,
};

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");
const ms = (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "—");
const ratio = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "—");
const pct = (n) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : "—");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const verdict = (ok) => (ok ? "met" : "**not met**");

function errorsCell(run) {
  if (run.errors === 0) return "0";
  const statuses = Object.entries(run.statuses)
    .filter(([s]) => s !== "200")
    .map(([s, n]) => `${n}×${s}`)
    .join(", ");
  return `${run.errors} (${statuses})`;
}

/** Short verdict on single use: replay at once, replay much later, 8 concurrent copies. */
function replayCell(run) {
  const { replay: r } = run;
  const refused = (x) => x.status === 401;
  if (refused(r.recent) && refused(r.old) && r.concurrent.accepted === 1) return "yes";
  const bad = [];
  if (!refused(r.recent)) bad.push(`replay at once → ${r.recent.status}`);
  if (!refused(r.old)) bad.push(`old replay → ${r.old.status}`);
  if (r.concurrent.accepted !== 1) bad.push(`${r.concurrent.accepted}/8 concurrent copies accepted`);
  return `**no**: ${bad.join(", ")}`;
}

function checksCell(row) {
  const { run } = row;
  const parts = [];
  parts.push(`JWT access tokens: ${run.tokens.valid}/${run.tokens.checked} verified against the JWKS${run.tokens.problems.length ? ` (${run.tokens.problems.join("; ")})` : ""}`);
  const { replay } = run;
  const show = (r) => `${r.status}${r.error ? ` ${r.error}` : ""}${r.description ? ` ("${r.description}")` : ""}`;
  parts.push(`replay at once → ${show(replay.recent)} (first use ${replay.firstUse.status})`);
  parts.push(`replay of the window's first assertion, ${int(replay.old.tokensSince)} tokens later → ${show(replay.old)}`);
  parts.push(`same assertion ×8 concurrently → ${replay.concurrent.accepted} of 8 accepted`);
  return parts.join("; ");
}

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const spread = (values) => (values.length > 1 ? ` (${values.map((v) => (v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString("en-US"))).join(", ")})` : "");

/**
 * The target measures over the rounds: for each, the median and every round's value. Ratios are
 * taken within a round (the rows of one round ran back to back), then the median is taken.
 */
function acrossRounds(results) {
  const rounds = results.rounds ?? [];
  const pick = (f) => rounds.map(f).filter(Number.isFinite);
  const values = {
    cpu: pick((r) => r.ours?.serverMicrosPerToken),
    p99: pick((r) => r.ours?.p99Ms),
    vsMemory: pick((r) => r.ours?.tokensPerSecond / r["peer-memory"]?.tokensPerSecond),
    vsRedis: pick((r) => r.ours?.tokensPerSecond / r["peer-redis"]?.tokensPerSecond),
    p99VsMemory: pick((r) => r.ours?.p99Ms / r["peer-memory"]?.p99Ms),
    cpuVsMemory: pick((r) => r.ours?.serverMicrosPerToken / r["peer-memory"]?.serverMicrosPerToken),
    cpuVsRedis: pick((r) => r.ours?.serverMicrosPerToken / r["peer-redis"]?.serverMicrosPerToken),
    cpuVsFloor: pick((r) => r.ours?.serverMicrosPerToken / r.floor?.serverMicrosPerToken),
  };
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { median: median(v), all: v }]));
}

export function renderReport(results) {
  const { system: sys, settings, floor, bundle } = results;
  const rows = results.rows;
  const ours = rows.find((r) => r.key === "ours" && !r.skipped);
  const mem = rows.find((r) => r.key === "peer-memory" && !r.skipped);
  const redis = rows.find((r) => r.key === "peer-redis" && !r.skipped);
  const designFloor = rows.find((r) => r.key === "floor" && !r.skipped);
  const starved = rows.some((r) => !r.skipped && r.run.serverCpuShare < 0.85);
  const busy = Number(sys.loadAverage[0]) > 0.5 || starved;
  const out = [];

  out.push("# Token endpoint benchmark");
  out.push("");
  out.push(`- command: \`${results.command}\``);
  out.push(`- date: ${results.date} (run took ${results.elapsedSeconds?.toFixed(0)} s)`);
  out.push(`- machine: ${sys.cpuModel}, ${sys.cpuCount} CPUs, Linux ${sys.kernel}; load average at start ${sys.loadAverage.join(" ")}, at end ${sys.loadAverageAtEnd?.join(" ")}${busy ? ` — **the machine was busy${starved ? " (a server got under 85% of its core)" : ""}: figures are noisy**` : ""}`);
  out.push(`- versions: Node ${sys.node}, workerd ${sys.workerd}, Miniflare ${sys.miniflare}, wrangler ${sys.wrangler}, jose ${sys.jose}, oidc-provider ${sys.oidcProvider}, ioredis ${sys.ioredis}, undici ${sys.undici}`);
  out.push(
    `- load: client_credentials + private_key_jwt (ES256), a fresh assertion per request (all signed before the clock starts), ${settings.connections} keep-alive connections (undici, closed loop), ${settings.warmupSeconds} s warm-up then ${settings.durationSeconds} s measured, ${settings.rounds ?? 1} interleaved round(s), each server started afresh per round (the main table shows each row's median round by tokens/s); ` +
      (settings.pinning
        ? `servers pinned to core ${settings.serverCpu}, load generator to core ${settings.loadCpu} (taskset)`
        : "**not pinned** (taskset or a second CPU missing)"),
  );
  out.push("- server CPU: utime+stime from /proc/<pid>/stat of the server processes, over the measured window, ÷ tokens issued");
  if (results.configuration) {
    const c = results.configuration;
    const vars = Object.entries(c.vars).map(([k, v]) => `${k}=${v}`).join(", ");
    const objects = Object.entries(c.durableObjects).map(([b, cls]) => `${b} → ${cls}`).join(", ");
    out.push(`- this service's configuration: wrangler.toml \`[env.${c.env}]\` as shipped, nothing overridden: vars ${vars}; Durable Objects ${objects}; KV ${c.kvNamespaces.join(", ")}; secrets generated for the run: SIGNING_KEYS (one ES256 key), CLIENT_SECRET_KEY, ADMIN_TOKEN`);
  }
  out.push("");

  out.push("| row | tokens/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU µs/token | assertions single-use |");
  out.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
  out.push(
    `| crypto floor: jose ES256 verify + sign in Node, one core, ${floor.inFlight} in flight | ${int(floor.tokensPerSecondPerCore)} per core | — | — | — | — | — | ${int(floor.microsPerToken)} | — |`,
  );
  for (const row of rows) {
    if (row.skipped) {
      out.push(`| ${row.label} | skipped: ${row.skipped} | | | | | | | |`);
      continue;
    }
    const { run } = row;
    const l = run.latencyMs;
    out.push(`| ${row.label} | ${int(run.tokensPerSecond)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${errorsCell(run)} | ${int(row.serverMicrosPerToken)} | ${replayCell(run)} |`);
  }
  out.push("");

  out.push("## Against the targets");
  out.push("");
  if (ours) {
    const m = acrossRounds(results);
    const n = (results.rounds ?? []).length;
    out.push(`Medians over ${n} round${n === 1 ? "" : "s"}; every round's value in brackets, in round order.`);
    out.push("");
    out.push("| measure | value | target | |");
    out.push("|---|---:|---:|---|");
    if (mem) out.push(`| our tokens/s ÷ oidc-provider's (in-memory) | ${ratio(m.vsMemory.median)}${spread(m.vsMemory.all)} | ≥ ${TARGETS.vsMemoryPeer}× | ${verdict(m.vsMemory.median >= TARGETS.vsMemoryPeer)} |`);
    if (designFloor) out.push(`| our CPU per token ÷ design floor's | ${ratio(m.cpuVsFloor.median)}${spread(m.cpuVsFloor.all)} | ≤ ${TARGETS.vsDesignFloor}× | ${verdict(m.cpuVsFloor.median <= TARGETS.vsDesignFloor)} |`);
    if (mem) out.push(`| our p99 ÷ oidc-provider's (in-memory) at ${settings.connections} connections | ${ratio(m.p99VsMemory.median)}${spread(m.p99VsMemory.all)} | ≤ ${TARGETS.p99VsMemoryPeer}× | ${verdict(m.p99VsMemory.median <= TARGETS.p99VsMemoryPeer)} |`);
    out.push(`| our server CPU per token | ${int(m.cpu.median)} µs${spread(m.cpu.all)} | — | |`);
    out.push(`| our CPU per token ÷ crypto floor | ${ratio(m.cpu.median / floor.microsPerToken)} | — | |`);
    out.push(`| our p99 at ${settings.connections} connections | ${ms(m.p99.median)} ms${spread(m.p99.all)} | — | |`);
    if (redis) out.push(`| our tokens/s ÷ oidc-provider's (Redis) | ${ratio(m.vsRedis.median)}${spread(m.vsRedis.all)} | — | |`);
    if (mem) out.push(`| our CPU per token ÷ oidc-provider's (in-memory) | ${ratio(m.cpuVsMemory.median)}${spread(m.cpuVsMemory.all)} | — | |`);
    if (redis) out.push(`| our CPU per token ÷ oidc-provider's (Redis) | ${ratio(m.cpuVsRedis.median)}${spread(m.cpuVsRedis.all)} | — | |`);
  }
  out.push("");

  const rounds = results.rounds ?? [];
  if (rounds.length > 1) {
    out.push("### Every round");
    out.push("");
    out.push("| round | row | tokens/s | server CPU µs/token | p99 ms |");
    out.push("|---:|---|---:|---:|---:|");
    rounds.forEach((round, i) => {
      for (const row of rows) {
        const f = round[row.key];
        if (f) out.push(`| ${i + 1} | ${row.label} | ${int(f.tokensPerSecond)} | ${int(f.serverMicrosPerToken)} | ${ms(f.p99Ms)} |`);
      }
    });
    out.push("");
  }

  out.push("## Bundle and cold start");
  out.push("");
  out.push(
    `- bundle (\`wrangler deploy --dry-run\`, ${bundle.files.join(", ")}): **${kib(bundle.rawBytes)} raw, ${kib(bundle.gzipBytes)} gzip** (gzip -9; wrangler says: ${bundle.wranglerLine || "—"})`,
  );
  out.push("");
  out.push("| server | process start → ready | process start → first token | first request latency |");
  out.push("|---|---:|---:|---:|");
  for (const row of rows) {
    if (row.skipped || !row.coldStart) continue;
    const c = row.coldStart;
    out.push(`| ${row.label} | ${int(c.readyMs)} ms | ${int(c.firstTokenMs)} ms | ${ms(c.firstRequestMs)} ms |`);
  }
  out.push("");

  out.push("## Checks and details per row");
  out.push("");
  out.push(
    `- crypto floor: ${int(floor.microsPerToken)} µs CPU per token with ${floor.inFlight} in flight (${int(floor.sequentialMicrosPerToken)} µs one at a time: Node runs WebCrypto on its thread pool); the bare primitives (node:crypto ECDSA P-256 verify + sign, synchronous, no JOSE) ${int(floor.primitiveMicrosPerToken)} µs`,
  );
  for (const row of rows) {
    if (row.skipped) {
      out.push(`- ${row.label}: skipped — ${row.skipped}`);
      continue;
    }
    const { run } = row;
    const breakdown = row.cpuBreakdown
      ? Object.entries(row.cpuBreakdown)
          .map(([k, v]) => `${k} ${int(v)}`)
          .join(" + ")
      : `all ${run.serverPidsCount ?? ""} processes ${int(row.serverMicrosPerToken)}`;
    out.push(`- ${row.label} — ${row.setup}`);
    out.push(
      `  - ${int(run.ok)} tokens in ${run.seconds.toFixed(2)} s${run.exhausted ? " (assertion pool ran out: window shortened)" : ""}; CPU µs/token: ${breakdown}; p99.9 ${ms(run.latencyMs.p999)} ms, ${int(run.latencyMs.over50ms)} requests over 50 ms; warm-up ${int(run.warmup.rate)} tokens/s; CPU used in the window: servers ${pct(run.serverCpuShare)} of a core${run.serverCpuShare < 0.85 ? " (**starved by other processes, or not CPU-bound**)" : ""}, load generator ${pct(run.loadgenCpuShare)}${run.serverCoreSteal === undefined ? "" : `; hypervisor steal on the server core ${pct(run.serverCoreSteal)}`}`,
    );
    out.push(`  - ${checksCell(row)}`);
    const why = [];
    if (row.key === "peer-memory" && run.replay.old.status === 200) {
      why.push("oidc-provider's in-memory adapter keeps models in an LRU of 1,000 entries (lib/adapters/memory_adapter.js): older jtis are forgotten before they expire");
    }
    if (row.key === "peer-redis" && run.replay.concurrent.accepted > 1) {
      why.push("oidc-provider's ReplayDetection.unique() is find-then-save (lib/models/replay_detection.js), two adapter calls, not atomic");
    }
    if (why.length) out.push(`  - why: ${why.join("; ")}`);
    if (run.tokens.sampleHeader) out.push(`  - token header ${JSON.stringify(run.tokens.sampleHeader)}, claims ${run.tokens.sampleClaims.join(", ")}`);
    if (run.errorSamples.length) out.push(`  - first errors: ${run.errorSamples.map((e) => `\`${e.replace(/`/g, "'")}\``).join("; ")}`);
  }
  return out.join("\n");
}
