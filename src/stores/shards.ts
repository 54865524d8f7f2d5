/**
 * What every sharded Durable Object store shares (the replay guard, the revocation list): call a
 * named object, or the shard of a key by a hash, under a deadline, and turn any failure into a 503
 * that the OAuth layer reports as `temporarily_unavailable` (fail closed: nothing is issued,
 * nothing is reported active, on a path that could not complete every check).
 */
import { OAuthError } from "../core/errors.js";

/** How long a request waits for a Durable Object shard before failing closed. */
const SHARD_CALL_TIMEOUT_MS = 3_000;

/** The failure a store reports when its shard cannot be reached: log event and OAuthError reason (a 503). */
export type ShardUnavailable = "replay_guard_unavailable" | "revocation_list_unavailable" | "quota_counter_unavailable" | "usage_unavailable" | "key_ring_unavailable";

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

/** One named object of a namespace, and how a failure to reach it is reported. */
export interface ObjectCall<T extends Rpc.DurableObjectBranded | undefined> {
  readonly namespace: DurableObjectNamespace<T>;
  readonly name: string;
  /** Applies only when the object is first created (Durable Object location hints). */
  readonly locationHint?: DurableObjectLocationHint;
  /** Deadline of the call; default SHARD_CALL_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  readonly unavailable: ShardUnavailable;
}

/**
 * Run `call` on the shard that owns `key` (FNV-1a of the key, modulo the shard count), within
 * the set's deadline.
 * @throws OAuthError 503 `temporarily_unavailable` as callObject does.
 */
export function callShard<T extends Rpc.DurableObjectBranded | undefined, R>(
  shards: ShardSet<T>,
  key: string,
  call: (stub: DurableObjectStub<T>) => Promise<R>,
): Promise<R> {
  const name = `${shards.prefix}-${fnv1a(key) % shards.count}`;
  return callObject({ namespace: shards.namespace, name, timeoutMs: shards.timeoutMs, unavailable: shards.unavailable }, call);
}

/**
 * Run `call` on the object `target.name` (created with its location hint, if any) within the
 * deadline.
 * @throws OAuthError 503 `temporarily_unavailable` when the stub cannot be had, the call throws, or
 *   it times out. Nothing else escapes, so callers never mistake an outage for an answer.
 */
export async function callObject<T extends Rpc.DurableObjectBranded | undefined, R>(
  target: ObjectCall<T>,
  call: (stub: DurableObjectStub<T>) => Promise<R>,
): Promise<R> {
  let timer: number | null = null;
  try {
    const id = objectId(target.namespace, target.name);
    const stub = target.locationHint === undefined ? target.namespace.get(id) : target.namespace.get(id, { locationHint: target.locationHint });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${target.name} timed out`)), target.timeoutMs ?? SHARD_CALL_TIMEOUT_MS);
    });
    return await Promise.race([call(stub), timeout]);
  } catch (cause) {
    console.error(JSON.stringify({ event: target.unavailable, object: target.name, message: String(cause) }));
    throw new OAuthError(target.unavailable);
  } finally {
    clearTimeout(timer);
  }
}

/** Ids per namespace and object name, kept per isolate (ids may be kept across requests; stubs may not). */
const ids = new WeakMap<object, Map<string, DurableObjectId>>();
/** Per-client object names make the set open-ended: start over past this many. */
const MAX_CACHED_IDS = 4096;

function objectId<T extends Rpc.DurableObjectBranded | undefined>(namespace: DurableObjectNamespace<T>, name: string): DurableObjectId {
  let byName = ids.get(namespace);
  if (!byName) ids.set(namespace, (byName = new Map()));
  let id = byName.get(name);
  if (!id) {
    if (byName.size >= MAX_CACHED_IDS) byName.clear();
    byName.set(name, (id = namespace.idFromName(name)));
  }
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
