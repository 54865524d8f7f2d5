/**
 * A tiny stand-in for the hosts that serve client JWK Sets: a `fetch` function to inject into the
 * key source (or to install as the Worker's global fetch), answering from handlers per URL and
 * honouring the AbortSignal as a real fetch does. No network, no fetch mocking library.
 */
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { vi } from "vitest";

export type Handler = (request: Request) => Response | Promise<Response>;

export interface JwksHost {
  /** Same shape as the key source's injectable fetch. */
  fetch(input: string, init: RequestInit): Promise<Response>;
  serve(url: string, handler: Handler): void;
  /** Serve `{keys}` as JSON at `url`. */
  serveKeys(url: string, keys: JWK[]): void;
  /** URLs requested so far, in order. */
  readonly requests: string[];
  count(url: string): number;
}

export function jwksHost(): JwksHost {
  const handlers = new Map<string, Handler>();
  const requests: string[] = [];
  return {
    requests,
    count: (url) => requests.filter((u) => u === url).length,
    serve: (url, handler) => void handlers.set(url, handler),
    serveKeys: (url, keys) => void handlers.set(url, () => Response.json({ keys })),
    async fetch(input, init) {
      requests.push(input);
      const handler = handlers.get(input);
      if (!handler) throw new TypeError(`fetch failed: no host for ${input}`);
      const signal = init.signal ?? undefined;
      if (signal?.aborted) throw new DOMException("aborted", "AbortError");
      const aborted = new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
      return Promise.race([Promise.resolve(handler(new Request(input, init))), aborted]);
    },
  };
}

/** A never-ending response body: sends `{"keys":[` and then nothing. */
export function stalledBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"keys":['));
    },
  });
}

/** A body of `bytes` bytes sent in 1 KiB chunks, without Content-Length. */
export function hugeBody(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const chunk = new Uint8Array(Math.min(1024, bytes - sent)).fill(0x20);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

export interface ClientKeyPair {
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
  alg: string;
}

/** A client key pair with a fresh kid. */
export async function clientKeyPair(alg = "ES256", kid = `k-${crypto.randomUUID().slice(0, 8)}`): Promise<ClientKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  return {
    privateKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" },
    kid,
    alg,
  };
}

/**
 * Send the Worker's outbound fetch to `host` and silence the failure log lines it provokes. Call
 * in `beforeEach`; `vi.restoreAllMocks()` in `afterEach` undoes it.
 */
export function routeFetchTo(host: JwksHost): void {
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => host.fetch(String(input instanceof Request ? input.url : input), init ?? {}));
  vi.spyOn(console, "error").mockImplementation(() => {});
}
