/**
 * The CLI's own shell around the commands (src/cli/main.js): a mistyped command gets a "did you
 * mean", an option the command does not take is refused instead of silently dropped, and
 * `--version` prints the version it was given (src/cli/bin.js passes package.json's).
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { cliHarness } from "./harness.js";

describe("ets: commands and options", () => {
  it("suggests the nearest command for a mistyped one (exit code 2, nothing sent)", async () => {
    const cli = cliHarness();
    expect(await cli.run("client", "list")).toMatchObject({ code: 2, stderr: 'ets: unknown command "client" (did you mean "clients"?) (see ets --help)\n' });
    expect(await cli.run("clients", "lst")).toMatchObject({ code: 2, stderr: 'ets: unknown command "clients lst" (did you mean "clients list"?) (see ets --help)\n' });
    expect(await cli.run("tokn", "--client-id", "x")).toMatchObject({ code: 2, stderr: 'ets: unknown command "tokn" (did you mean "token"?) (see ets --help)\n' });
    expect(await cli.run("trusted-issuer", "list")).toMatchObject({ code: 2, stderr: expect.stringContaining('(did you mean "trusted-issuers"?)') });
    expect(await cli.run("frobnicate")).toMatchObject({ code: 2, stderr: 'ets: unknown command "frobnicate" (see ets --help)\n' });
    expect(cli.requests).toEqual([]);
  });

  it("refuses an option the command does not take, before sending anything", async () => {
    const cli = cliHarness();
    const refused = await cli.run("clients", "list", "--scope", "read");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^ets: --scope is not an option of this command \(usage: ets clients list \[--limit N\] \[--cursor C\]\)/);
    expect((await cli.run("clients", "show", "--kid", "k1", "some-client")).code).toBe(2);
    expect(cli.requests).toEqual([]);
    // The id and issuer a command takes as its first argument may also be given as an option.
    expect((await cli.run("clients", "show", "--client-id", "nobody")).stderr).toMatch(/404 not_found/);
    expect((await cli.run("trusted-issuers", "show", "--issuer", "https://nobody.example")).stderr).toMatch(/404 not_found/);
  });

  it("--version prints the version", async () => {
    const out: string[] = [];
    const io = { fetch: () => Promise.reject(new Error("no request")), env: {}, stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), readFile: () => Promise.reject(new Error("no file")), writeFile: () => Promise.reject(new Error("no file")), removeFile: () => Promise.reject(new Error("no file")), readStdin: () => Promise.resolve("") };
    expect(await runCli(["--version"], io, { version: "9.8.7" })).toBe(0);
    expect(out).toEqual(["ets 9.8.7\n"]);
  });
});
