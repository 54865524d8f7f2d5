/**
 * A fetch of untrusted remote content with hard bounds (used for client `jwks_uri`s, SPEC §6):
 * a time cap for the whole exchange (AbortController plus a race, so even a fetch that ignores
 * its signal cannot hold the request), a size cap enforced while the body streams, no redirects.
 */

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface FetchLimits {
  /** Largest accepted body. */
  readonly maxBytes: number;
  /** Longest wait for headers and body together. */
  readonly timeoutMs: number;
}

/** Why a bounded fetch failed: a stable problem code for logs. */
export class BoundedFetchError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = "BoundedFetchError";
  }
}

/**
 * GET `uri` and return its body as text: only a 200 counts, redirects are not followed, the body
 * is at most `maxBytes` (checked while it streams) and the whole exchange at most `timeoutMs`.
 * @throws BoundedFetchError naming the problem: network_error, timeout, redirect_refused,
 *   status_<code>, too_large, invalid_utf8.
 */
export async function fetchTextBounded(uri: string, fetchImpl: FetchLike, limits: FetchLimits & { accept: string }): Promise<string> {
  const controller = new AbortController();
  let timer: number | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new BoundedFetchError("timeout"));
    }, limits.timeoutMs);
  });
  const exchange = async (): Promise<string> => {
    let response: Response;
    try {
      response = await fetchImpl(uri, {
        method: "GET",
        redirect: "manual",
        signal: controller.signal,
        headers: { Accept: limits.accept },
      });
    } catch {
      throw new BoundedFetchError(controller.signal.aborted ? "timeout" : "network_error");
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new BoundedFetchError(response.status >= 300 && response.status < 400 ? "redirect_refused" : `status_${response.status}`);
    }
    return readCapped(response, limits.maxBytes);
  };
  try {
    return await Promise.race([exchange(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text, refusing more than `maxBytes` while it streams in. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("Content-Length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BoundedFetchError("too_large");
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BoundedFetchError("too_large");
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof BoundedFetchError) throw cause;
    throw new BoundedFetchError("network_error");
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BoundedFetchError("invalid_utf8");
  }
}
