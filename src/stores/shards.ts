/**
 * What every sharded Durable Object store shares (the replay guard, the revocation list): pick a
 * shard by a hash of the key, call it under a deadline, and turn any failure into a 503 that the
 * OAuth layer reports as `temporarily_unavailable` (fail closed: nothing is issued, nothing is
 * reported active, on a path that could not complete every check).
 */
import { OAuthError } from "../http/errors.js";

/** How long a request waits for a Durable Object shard before failing closed. */
export const SHARD_CALL_TIMEOUT_MS = 3_000;

/** The failure a store reports when its shard cannot be reached. */
export interface ShardUnavailable {
  /** Log event and OAuthError reason, e.g. `replay_guard_unavailable`. */
  readonly reason: string;
  /** Public `error_description` of the 503. */
  readonly description: string;
}

/** Which shard objects a store uses: `<prefix>-0` … `<prefix>-<count - 1>`. */
export interface ShardSet<T extends Rpc.DurableObjectBranded | undefined> {
  readonly namespace: DurableObjectNamespace<T>;
  /** Object names are part of the stored state: changing `prefix` or `count` moves keys. */
  readonly prefix: string;
  readonly count: number;
  /** Deadline of one call; default SHARD_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** How the store reports an unreachable shard. */
  readonly unavailable: ShardUnavailable;
}

/**
 * Run `call` on the shard that owns `key` (FNV-1a of the key, modulo the shard count), within
 * the set's deadline.
 * @throws OAuthError 503 `temporarily_unavailable` when the stub cannot be had, the call throws, or
 *   it times out. Nothing else escapes, so callers never mistake an outage for an answer.
 */
export async function callShard<T extends Rpc.DurableObjectBranded | undefined, R>(
  shards: ShardSet<T>,
  key: string,
  call: (stub: DurableObjectStub<T>) => Promise<R>,
): Promise<R> {
  const shard = fnv1a(key) % shards.count;
  let timer: number | null = null;
  try {
    const stub = shards.namespace.get(shards.namespace.idFromName(`${shards.prefix}-${shard}`));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${shards.prefix} timed out`)), shards.timeoutMs ?? SHARD_CALL_TIMEOUT_MS);
    });
    return await Promise.race([call(stub), timeout]);
  } catch (cause) {
    console.error(JSON.stringify({ event: shards.unavailable.reason, shard, message: String(cause) }));
    throw new OAuthError("temporarily_unavailable", shards.unavailable.description, shards.unavailable.reason);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls to a sharded store on the hot path, batched: each isolate keeps **at most one RPC in flight
 * per shard**; calls that arrive meanwhile queue and go together in the next RPC. Measured in
 * bench/FINDINGS.md: with one RPC per call, overlapping Durable Object calls from one isolate
 * stall whole keep-alive connections (p99 ≫ p90) and cost ~100–170 µs more CPU per call.
 *
 * workerd runs a promise continuation in the context of the request that settled the promise, and
 * refuses I/O (a stub, a timer) across requests. So no caller ever awaits a promise another
 * request settles: a queued caller wakes on its own 1 ms timer and reads a plain field the sending
 * caller wrote; the caller that finds the shard idle sends the batch from its own context. Every
 * failure, and a deadline per caller, fails closed with the store's 503.
 */
export interface BatchedShardCalls<I, R> {
  /** Run `item` in the next batch of the shard that owns `key`. @throws OAuthError 503. */
  call(key: string, item: I): Promise<R>;
}

interface Waiter<I, R> {
  readonly item: I;
  /** Written by the caller that sent this waiter's batch. */
  outcome?: { ok: true; value: R } | { ok: false; cause: unknown };
}

interface ShardQueue<I, R> {
  /** When the RPC in flight was sent (ms), 0 when the shard is idle in this isolate. */
  busySince: number;
  waiting: Waiter<I, R>[];
}

/** How often a queued caller looks whether its batch has been answered. */
const POLL_MS = 1;

export function batchedShardCalls<T extends Rpc.DurableObjectBranded | undefined, I, R>(
  shards: ShardSet<T>,
  send: (stub: DurableObjectStub<T>, items: I[]) => Promise<R[]>,
): BatchedShardCalls<I, R> {
  const timeoutMs = shards.timeoutMs ?? SHARD_CALL_TIMEOUT_MS;
  const queues: ShardQueue<I, R>[] = [];
  // An idle shard, or one whose sender vanished (its request was cancelled mid-call).
  const canSend = (queue: ShardQueue<I, R>) => queue.busySince === 0 || Date.now() - queue.busySince > timeoutMs;

  /** Send everything queued for `shard`, from the calling request's own context. */
  async function sendBatch(shard: number, queue: ShardQueue<I, R>): Promise<void> {
    queue.busySince = Date.now();
    const batch = queue.waiting.splice(0);
    let timer: number | null = null;
    try {
      const stub = shards.namespace.get(shards.namespace.idFromName(`${shards.prefix}-${shard}`));
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${shards.prefix} timed out`)), timeoutMs);
      });
      const results = await Promise.race([send(stub, batch.map((w) => w.item)), deadline]);
      if (results.length !== batch.length) throw new Error(`${shards.prefix} answered ${results.length} of ${batch.length}`);
      batch.forEach((waiter, i) => (waiter.outcome = { ok: true, value: results[i]! }));
    } catch (cause) {
      for (const waiter of batch) waiter.outcome = { ok: false, cause };
    } finally {
      clearTimeout(timer);
      queue.busySince = 0;
    }
  }

  return {
    async call(key, item) {
      const shard = fnv1a(key) % shards.count;
      const queue = (queues[shard] ??= { busySince: 0, waiting: [] });
      const waiter: Waiter<I, R> = { item };
      queue.waiting.push(waiter);
      // Queued behind at most one batch, then in our own.
      const giveUpAt = Date.now() + 2 * timeoutMs;
      try {
        while (waiter.outcome === undefined) {
          if (canSend(queue)) await sendBatch(shard, queue);
          else if (Date.now() > giveUpAt) throw new Error(`${shards.prefix} timed out (queued)`);
          else await scheduler.wait(POLL_MS);
        }
        if (!waiter.outcome.ok) throw waiter.outcome.cause;
        return waiter.outcome.value;
      } catch (cause) {
        console.error(JSON.stringify({ event: shards.unavailable.reason, shard, message: String(cause) }));
        throw new OAuthError("temporarily_unavailable", shards.unavailable.description, shards.unavailable.reason);
      } finally {
        const index = queue.waiting.indexOf(waiter);
        if (index !== -1) queue.waiting.splice(index, 1);
      }
    },
  };
}

/** FNV-1a 32-bit: a fast, well-spread shard picker (not a security boundary). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
