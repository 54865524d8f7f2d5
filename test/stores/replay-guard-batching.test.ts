/**
 * The replay guard's client side batches: at most one RPC in flight per shard per isolate, calls
 * arriving meanwhile go together in the next RPC (src/stores/shards.ts, bench/FINDINGS.md R1).
 * Single use must hold inside a batch and across batches, and a failed batch fails every caller
 * in it closed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { OAuthError } from "../../src/http/errors.js";
import { replayGuardRegistry } from "../../src/stores/replay-guard.js";

/** The real REPLAY_GUARD namespace, with every RPC batch recorded. */
function recordingNamespace(fail = false) {
  const batches: number[] = [];
  const namespace = {
    idFromName: (name: string) => env.REPLAY_GUARD.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.REPLAY_GUARD.get(id);
      return {
        consumeMany: async (items: [string, number][]) => {
          batches.push(items.length);
          if (fail) throw new Error("injected outage");
          return real.consumeMany(items);
        },
      };
    },
  };
  return { namespace: namespace as unknown as typeof env.REPLAY_GUARD, batches };
}

describe("replay guard batching", () => {
  it("concurrent calls to one shard share RPCs, and each (client, jti) still wins exactly once", async () => {
    const { namespace, batches } = recordingNamespace();
    const registry = replayGuardRegistry(namespace, 1);
    const exp = Math.floor(Date.now() / 1000) + 600;
    // 12 calls over 4 distinct jtis (3 copies each), all at once.
    const distinct = ["a", "b", "c", "d"].map((x) => `${x}-${crypto.randomUUID()}`);
    const calls = Array.from({ length: 12 }, (_, i) => distinct[i % 4]!);
    const results = await Promise.all(calls.map((jti) => registry.consumeOnce("batch-client", jti, exp)));
    for (const jti of distinct) {
      const wins = results.filter((won, i) => won && calls[i] === jti).length;
      expect(wins).toBe(1);
    }
    expect(batches.reduce((a, b) => a + b, 0)).toBe(12);
    expect(batches.length).toBeLessThan(12);
  });

  it("a later call with an already used jti loses across batches", async () => {
    const { namespace } = recordingNamespace();
    const registry = replayGuardRegistry(namespace, 4);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jti = crypto.randomUUID();
    expect(await registry.consumeOnce("later-client", jti, exp)).toBe(true);
    expect(await registry.consumeOnce("later-client", jti, exp)).toBe(false);
  });

  it("a failed batch fails every caller in it with 503 temporarily_unavailable", async () => {
    const { namespace, batches } = recordingNamespace(true);
    const registry = replayGuardRegistry(namespace, 1);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const settled = await Promise.allSettled(Array.from({ length: 6 }, () => registry.consumeOnce("down-client", crypto.randomUUID(), exp)));
    expect(batches.length).toBeGreaterThan(0);
    for (const outcome of settled) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(OAuthError);
      expect((reason as OAuthError).status).toBe(503);
      expect((reason as OAuthError).error).toBe("temporarily_unavailable");
    }
  });
});
