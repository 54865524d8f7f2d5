/**
 * Small shared mechanisms: memoizeAsync (one set-up per key, forgotten on failure) and the
 * documented defaults of loadSettings.
 */
import { describe, expect, it } from "vitest";
import { loadSettings } from "../src/config.js";
import { memoizeAsync } from "../src/memo.js";

describe("memoizeAsync", () => {
  it("shares one pending set-up between callers of one key", async () => {
    const cache = new Map<string, Promise<number>>();
    let runs = 0;
    const create = async () => ++runs;
    const [a, b] = await Promise.all([memoizeAsync(cache, "k", create), memoizeAsync(cache, "k", create)]);
    expect([a, b, runs]).toEqual([1, 1, 1]);
    expect(await memoizeAsync(cache, "other", create)).toBe(2);
  });

  it("forgets a failed set-up, so the next call tries again", async () => {
    const cache = new Map<string, Promise<string>>();
    await expect(memoizeAsync(cache, "k", () => Promise.reject(new Error("bad secret")))).rejects.toThrow("bad secret");
    await Promise.resolve();
    expect(await memoizeAsync(cache, "k", async () => "fixed")).toBe("fixed");
  });
});

describe("loadSettings defaults", () => {
  it("uses the documented defaults when a setting is unset", () => {
    const settings = loadSettings({} as Env);
    expect(settings).toMatchObject({
      accessTokenTtlSeconds: 3600,
      assertionMaxLifetimeSeconds: 300,
      clockSkewSeconds: 15,
      audienceMode: "compat",
      replayGuardTimeoutMs: 3000,
      dpopNonce: "off",
    });
  });
});
