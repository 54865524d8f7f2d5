/**
 * The `ets` binary under Node: a refusal is one line on stderr and exit code 1, never a Node
 * crash trace (an unhandled rejection is fatal under Node, unlike in the workerd tests).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

function ets(...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETS_")));
  const result = spawnSync(process.execPath, ["src/cli/bin.js", ...args], { encoding: "utf8", env });
  return { code: result.status, stderr: result.stderr };
}

it("refuses plain http:// to another host in one line, before looking for an admin token", () => {
  expect(ets("clients", "list", "--url", "http://auth.example.com")).toEqual({
    code: 1,
    stderr: "ets: refusing to send the admin token over plain http:// to auth.example.com: use https:// (plain http:// is only for a loopback host: 127.0.0.0/8, ::1, localhost)\n",
  });
});

it("a missing admin token for a deployed service is one line", () => {
  expect(ets("clients", "list", "--url", "https://auth.example.com")).toEqual({ code: 1, stderr: "ets: no admin token: set ETS_ADMIN_TOKEN (or pass --admin-token-file FILE)\n" });
});

it("ets --version prints package.json's version", async () => {
  const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  const result = spawnSync(process.execPath, ["src/cli/bin.js", "--version"], { encoding: "utf8" });
  expect({ code: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: `ets ${version}\n`, stderr: "" });
});
