/**
 * Per-isolate memoisation of expensive async set-up (imported keys, derived keys, local-dev
 * material): one promise per key, shared by concurrent callers, forgotten if it fails so a fixed
 * secret or a recovered dependency is picked up without a redeploy.
 */
interface PromiseCache<K, V> {
  get(key: K): Promise<V> | undefined;
  set(key: K, value: Promise<V>): unknown;
  delete(key: K): unknown;
}

export function memoizeAsync<K, V>(cache: PromiseCache<K, V>, key: K, create: () => Promise<V>): Promise<V> {
  let pending = cache.get(key);
  if (!pending) {
    pending = create();
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}
