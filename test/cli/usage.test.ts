/**
 * SPEC §11 in the CLI: `--quota` on create and update, and `clients usage` (one sparkline line of
 * 24 hours with total and peak hour, the quota window, `--json`).
 */
import { describe, expect, it } from "vitest";
import { parseQuota, sparkline } from "../../src/cli/quota.js";
import { admin, uniqueId } from "../helpers.js";
import { cliHarness, fields } from "./harness.js";

describe("--quota", () => {
  it("clients create --quota sets token_quota; clients update changes it and --quota none removes it", async () => {
    const cli = cliHarness();
    const id = uniqueId("quota");
    const created = await cli.ok("clients", "create", "--name", "Q", "--client-id", id, "--out", "q.json", "--quota", "1000/1h");
    expect(fields(created.stdout).token_quota).toBe("1000/1h enforce");
    expect((await (await admin("GET", `/admin/clients/${id}`)).json<any>()).token_quota).toEqual({ limit: 1000, window: 3600, mode: "enforce" });
    const updated = await cli.ok("clients", "update", id, "--quota", "50/90s,observe");
    expect(fields(updated.stdout).token_quota).toBe("50/90s observe");
    await cli.ok("clients", "update", id, "--quota", "none");
    expect((await (await admin("GET", `/admin/clients/${id}`)).json<any>()).token_quota).toBeUndefined();
  });

  it("parses LIMIT/WINDOW with s, m, h, d and refuses anything else as a usage error (exit 2) before sending", async () => {
    expect(parseQuota("10/60")).toEqual({ limit: 10, window: 60, mode: "enforce" });
    expect(parseQuota("10/5m,observe")).toEqual({ limit: 10, window: 300, mode: "observe" });
    expect(parseQuota("10/30d")).toEqual({ limit: 10, window: 2_592_000, mode: "enforce" });
    expect(parseQuota("none")).toBeNull();
    const cli = cliHarness();
    for (const bad of ["10", "10/59", "0/60", "10/31d", "10/1h,throttle", "ten/1h", "10/1w"]) {
      const result = await cli.run("clients", "update", "some-client", "--quota", bad);
      expect(result.code, bad).toBe(2);
      expect(result.stderr).toMatch(/--quota/);
    }
    expect(cli.requests).toHaveLength(0);
  });
});

describe("ets clients usage", () => {
  it("prints one sparkline line with the 24 h total and the peak hour, the quota window, and --json the API's answer", async () => {
    const cli = cliHarness();
    const id = uniqueId("usage");
    await cli.ok("clients", "create", "--name", "U", "--client-id", id, "--out", "u.json", "--scope", "read", "--quota", "3/1d");
    for (let i = 0; i < 2; i++) await cli.ok("token", "--client-id", id, "--key", "u.json");
    const { stdout } = await cli.ok("clients", "usage", id);
    const [line, quotaLine, ...rest] = stdout.trimEnd().split("\n");
    expect(rest).toEqual([]);
    expect(line).toMatch(new RegExp(`^${id}  [▁▂▃▄▅▆▇█]{24}  24h total 2, peak \\d{4}-\\d\\d-\\d\\d \\d\\d:00Z 2$`));
    expect(line!.split("  ")[1]!.endsWith("█")).toBe(true);
    expect(quotaLine).toMatch(/^quota 3\/1d enforce: 2 issued, 1 remaining, 0 refused; window ends \d{4}-/);
    const json = JSON.parse((await cli.ok("clients", "usage", id, "--json")).stdout);
    expect(json).toMatchObject({ client_id: id, token_quota: { limit: 3, window: 86_400, mode: "enforce" }, current_window: { issued: 2, remaining: 1 } });
    expect(json.hours).toHaveLength(24);
  });

  it("a client without tokens or quota: a flat line and no quota line; an unknown client fails with exit 1", async () => {
    const cli = cliHarness();
    const id = uniqueId("idle");
    await cli.ok("clients", "create", "--name", "I", "--client-id", id, "--out", "i.json");
    expect((await cli.ok("clients", "usage", id)).stdout).toBe(`${id}  ${"▁".repeat(24)}  24h total 0, no tokens\n`);
    const missing = await cli.run("clients", "usage", "no-such-client");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 not_found/);
  });

  it("the sparkline scales to the busiest hour and never draws a busy hour as an empty one", () => {
    expect(sparkline([0, 1, 50, 100])).toBe("▁▂▅█");
    expect(sparkline([0, 0])).toBe("▁▁");
    expect(sparkline([1, 1000])).toBe("▂█");
  });
});
