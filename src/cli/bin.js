#!/usr/bin/env node
// @ts-check
/**
 * Node entry of the operator CLI (`ets`, `npm run cli -- <command>`): wires runCli to the real
 * process — fetch, environment, files relative to the working directory, stdin/stdout/stderr.
 */
import { chmod, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { StdinIsTerminalError } from "./args.js";
import { runCli } from "./main.js";

/** @type {import("./context.js").CliIo} */
const io = {
  fetch: (input, init) => fetch(input, init),
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFile(path, "utf8"),
  async writeFile(path, text, { mode, exclusive }) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, text, { mode, flag: exclusive ? "wx" : "w" });
    await chmod(path, mode);
  },
  removeFile: (path) => unlink(path),
  async readStdin() {
    if (process.stdin.isTTY) throw new StdinIsTerminalError();
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
  },
};

const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
process.exitCode = await runCli(process.argv.slice(2), io, { version });
