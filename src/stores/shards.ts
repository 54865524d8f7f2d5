/**
 * What every sharded Durable Object store shares (the replay guard, the revocation list): pick a
 * shard by a hash of the key, call it under a deadline, and turn any failure into a 503 that the
 * OAuth layer reports as `temporarily_unavailable` (fail closed: nothing is issued, nothing is
 * reported active, on a path that could not complete every check).
 */
import { OAuthError } from "../http/errors.js";

/** How long a request waits for a Durable Object shard before failing closed. */
const SHARD_CALL_TIMEOUT_MS = 3_000;

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
    const stub = shards.namespace.get(shardId(shards, shard));
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

/** Ids per namespace and object name, computed once per isolate (ids may be kept across requests; stubs may not). */
const ids = new WeakMap<object, Map<string, DurableObjectId>>();

function shardId<T extends Rpc.DurableObjectBranded | undefined>(shards: ShardSet<T>, shard: number): DurableObjectId {
  let byName = ids.get(shards.namespace);
  if (!byName) ids.set(shards.namespace, (byName = new Map()));
  const name = `${shards.prefix}-${shard}`;
  let id = byName.get(name);
  if (!id) byName.set(name, (id = shards.namespace.idFromName(name)));
  return id;
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
