/**
 * Drops exactly the lines a green `npm test` prints that are not ours to fix, so a real warning
 * stands out (README, Testing). Installed by vitest.config.ts in the main vitest process, where
 * @cloudflare/vitest-pool-workers writes workerd's structured logs; the pool offers no option for
 * its Miniflare log handler (its own ignore list lacks these lines).
 *
 * - `WebSocket peer disconnected`: workerd reports the pool's own control WebSocket closing when a
 *   test file's runner is disposed, once per file.
 * - `Sourcemap for ".../node_modules/<pkg>/build/index.js" points to missing source files`: Vite,
 *   about the published openid-client and oauth4webapi packages, which ship maps without sources.
 * - A fetch to a `.test` host (RFC 6761 §6.2: never resolves, so only tests use it, e.g. the admin
 *   fuzz's jwks_uri clients): workerd logs the DNS failure with a stack and then an "uncaught"
 *   internal error pair with stacks, even when the fetch's rejection is caught (seen with a bare
 *   `await fetch("https://keys.test/").catch(() => {})`). Only that sequence is dropped.
 */
const DROPPED = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/,
  /^Sourcemap for "[^"]*\/node_modules\/(openid-client|oauth4webapi)\/build\/index\.js" points to missing source files$/,
];
const DNS_FAILURE_FOR_TEST_HOST = /^e = kj\/async-io-unix\.c\+\+:\d+: failed: DNS lookup failed\.; params\.host = [^;]*\.test; /;
const UNCAUGHT_INTERNAL = /^uncaught exception; source = Uncaught \(in promise\); stack = Error: internal error; reference = (\w+)$/;
const UNCAUGHT_INTERNAL_DETAIL = /^uncaught exception; exception = \S+: failed: jsg\.Error: internal error; reference = (\w+)$/;

/** Per-line state: the lines that may follow a dropped DNS failure. */
const after = { stack: false, uncaughtWithin: 0, references: new Set<string>() };

function dropLine(line: string): boolean {
  if (DROPPED.some((pattern) => pattern.test(line))) return true;
  if (DNS_FAILURE_FOR_TEST_HOST.test(line)) {
    Object.assign(after, { stack: true, uncaughtWithin: 8 });
    return true;
  }
  if (after.stack && line.startsWith("stack: ")) {
    after.stack = false;
    return true;
  }
  const uncaught = after.uncaughtWithin > 0 ? UNCAUGHT_INTERNAL.exec(line) : null;
  after.uncaughtWithin = Math.max(0, after.uncaughtWithin - 1);
  if (uncaught) {
    after.references.add(uncaught[1]!);
    return true;
  }
  const detail = UNCAUGHT_INTERNAL_DETAIL.exec(line);
  if (detail && after.references.delete(detail[1]!)) {
    after.stack = true;
    return true;
  }
  return false;
}

export function quietKnownRuntimeNoise(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
      if (text === undefined) return write(chunk, ...rest);
      const lines = text.split("\n");
      const kept = lines.filter((line, i) => (i === lines.length - 1 && line === "") || !dropLine(line.replace(/\x1b\[[0-9;]*m/g, "")));
      if (kept.length === lines.length) return write(chunk, ...rest);
      if (kept.every((line) => line === "")) {
        (rest.find((r) => typeof r === "function") as (() => void) | undefined)?.();
        return true;
      }
      return write(kept.join("\n"), ...rest);
    }) as typeof stream.write;
  }
}
