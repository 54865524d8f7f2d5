/**
 * Runs the operator CLI inside workerd against the Worker under test: `fetch` goes to the Worker (callWorker), files
 * live in memory (with their mode), stdin is a string (or an Error, a failing read). The same `runCli` the `ets` binary runs.
 */
import type { CliIo } from "../../src/cli/context.js";
import { runCli } from "../../src/cli/main.js";
import { ADMIN_TOKEN, callWorker, ISSUER } from "./helpers.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliHarness {
  run(...argv: string[]): Promise<CliResult>;
  /** Run and fail the test unless the exit code is 0. */
  ok(...argv: string[]): Promise<CliResult>;
  files: Map<string, { text: string; mode: number }>;
  env: Record<string, string | undefined>;
  /** What stdin holds; an Error is a read that fails with it. */
  stdin: string | Error;
  /** Every request the CLI sent. */
  requests: Request[];
}

export function cliHarness(options: { fetch?: CliIo["fetch"] } = {}): CliHarness {
  const files = new Map<string, { text: string; mode: number }>();
  const requests: Request[] = [];
  const harness: CliHarness = {
    files,
    requests,
    env: { ETS_URL: ISSUER, ETS_ADMIN_TOKEN: ADMIN_TOKEN },
    stdin: "",
    async run(...argv) {
      let stdout = "";
      let stderr = "";
      const io: CliIo = {
        fetch:
          options.fetch ??
          (async (input, init) => {
            requests.push(new Request(input, init));
            return callWorker(input, init);
          }),
        env: harness.env,
        stdout: (text) => void (stdout += text),
        stderr: (text) => void (stderr += text),
        readFile: async (path) => {
          const file = files.get(path);
          if (!file) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
          return file.text;
        },
        writeFile: async (path, text, { mode, exclusive }) => {
          if (exclusive && files.has(path)) throw new Error(`EEXIST: file already exists, open '${path}'`);
          files.set(path, { text, mode });
        },
        removeFile: async (path) => void files.delete(path),
        readStdin: async () => {
          if (harness.stdin instanceof Error) throw harness.stdin;
          return harness.stdin;
        },
      };
      const code = await runCli(argv, io);
      return { code, stdout, stderr };
    },
    async ok(...argv) {
      const result = await harness.run(...argv);
      if (result.code !== 0) throw new Error(`ets ${argv.join(" ")} exited ${result.code}: ${result.stderr}`);
      return result;
    },
  };
  return harness;
}

/** `name: value` lines of a command's summary output. */
export function fields(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split("\n")
      .map((line) => /^([a-z_]+): (.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}
