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
 */
const DROPPED = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\n?$/,
  /^Sourcemap for "[^"]*\/node_modules\/(openid-client|oauth4webapi)\/build\/index\.js" points to missing source files\n?$/,
];

export function quietKnownRuntimeNoise(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
      if (text !== undefined && DROPPED.some((line) => line.test(text.replace(/\x1b\[[0-9;]*m/g, "")))) {
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        callback?.();
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
