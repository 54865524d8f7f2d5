/**
 * SPEC §12 start checks of the key ring's schedule (src/config.ts), each failing with an error
 * that names its var, and what the service derives from them; one check end to end through the
 * Worker (503 naming the var, as every configuration error).
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadSettings } from "../src/config.js";
import { callWorker } from "./helpers.js";
import { expectUnavailable } from "./faults/fault-support.js";

const auto = (vars: Record<string, string> = {}) => ({ SIGNING_KEY_ROTATION: "auto", ...vars }) as unknown as Env;

function refusal(env: Env): ConfigError {
  try {
    loadSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the settings were accepted");
}

describe("SIGNING_KEY_ROTATION and the schedule: start checks", () => {
  it("defaults: manual (SIGNING_KEYS); with auto 30 d / 2 d / 2 d, JWKS max-age 300 s, ring cache 10 s", () => {
    expect(loadSettings({} as Env)).toMatchObject({ keyRing: null, jwksMaxAgeSeconds: 300 });
    expect(loadSettings(auto())).toMatchObject({
      keyRing: { lifetimeSeconds: 2_592_000, publishAheadSeconds: 172_800, retainSeconds: 172_800, cacheSeconds: 10 },
      jwksMaxAgeSeconds: 300,
    });
  });

  it("derives the JWKS max-age from the publish-ahead time: half of it, at most 300 s", () => {
    const short = loadSettings(auto({ SIGNING_KEY_LIFETIME: "60", SIGNING_KEY_PUBLISH_AHEAD: "20", SIGNING_KEY_RETAIN: "30", ACCESS_TOKEN_TTL: "20", CLOCK_SKEW: "5" }));
    expect(short).toMatchObject({ jwksMaxAgeSeconds: 10, keyRing: { cacheSeconds: 10 } });
    expect(loadSettings(auto({ SIGNING_KEY_PUBLISH_AHEAD: "3" }))).toMatchObject({ jwksMaxAgeSeconds: 1, keyRing: { cacheSeconds: 1 } });
  });

  it("SIGNING_KEY_ROTATION is manual or auto", () => {
    expect(refusal({ SIGNING_KEY_ROTATION: "yes" } as unknown as Env).setting).toBe("SIGNING_KEY_ROTATION");
  });

  for (const name of ["SIGNING_KEY_LIFETIME", "SIGNING_KEY_PUBLISH_AHEAD", "SIGNING_KEY_RETAIN"]) {
    it(`${name}: a whole number of seconds, at least 1`, () => {
      for (const value of ["0", "-5", "1.5", "2 days"]) {
        const err = refusal(auto({ [name]: value }));
        expect(err.setting).toBe(name);
        expect(err.message).toContain(`${name} must be a whole number from 1`);
      }
    });
  }

  it("SIGNING_KEY_PUBLISH_AHEAD: at least twice the JWKS max-age the service derives from it", () => {
    const err = refusal(auto({ SIGNING_KEY_PUBLISH_AHEAD: "1" }));
    expect(err.setting).toBe("SIGNING_KEY_PUBLISH_AHEAD");
    expect(err.message).toMatch(/at least twice the JWKS max-age/);
    expect(loadSettings(auto({ SIGNING_KEY_PUBLISH_AHEAD: "2" })).jwksMaxAgeSeconds).toBe(1);
  });

  it("SIGNING_KEY_PUBLISH_AHEAD: less than SIGNING_KEY_LIFETIME", () => {
    const err = refusal(auto({ SIGNING_KEY_LIFETIME: "100", SIGNING_KEY_PUBLISH_AHEAD: "100", SIGNING_KEY_RETAIN: "100", ACCESS_TOKEN_TTL: "60" }));
    expect(err.setting).toBe("SIGNING_KEY_PUBLISH_AHEAD");
    expect(err.message).toMatch(/less than SIGNING_KEY_LIFETIME/);
    expect(loadSettings(auto({ SIGNING_KEY_LIFETIME: "100", SIGNING_KEY_PUBLISH_AHEAD: "99", SIGNING_KEY_RETAIN: "100", ACCESS_TOKEN_TTL: "60" })).keyRing).not.toBeNull();
  });

  it("SIGNING_KEY_RETAIN: at least ACCESS_TOKEN_TTL + CLOCK_SKEW", () => {
    const err = refusal(auto({ SIGNING_KEY_RETAIN: "3614" }));
    expect(err.setting).toBe("SIGNING_KEY_RETAIN");
    expect(err.message).toMatch(/at least ACCESS_TOKEN_TTL \+ CLOCK_SKEW \(3615 s\)/);
    expect(loadSettings(auto({ SIGNING_KEY_RETAIN: "3615" })).keyRing?.retainSeconds).toBe(3615);
  });

  it("SIGNING_KEY_RETAIN: at most SIGNING_KEY_LIFETIME (at most three keys published)", () => {
    const err = refusal(auto({ SIGNING_KEY_LIFETIME: "3700", SIGNING_KEY_PUBLISH_AHEAD: "600", SIGNING_KEY_RETAIN: "3701" }));
    expect(err.setting).toBe("SIGNING_KEY_RETAIN");
    expect(err.message).toMatch(/at most SIGNING_KEY_LIFETIME/);
  });

  it("manual keys ignore the schedule's relations (the vars only matter with auto)", () => {
    expect(loadSettings({ SIGNING_KEY_RETAIN: "5" } as unknown as Env).keyRing).toBeNull();
  });

  it("through the Worker: a 503 whose description names the var, on the token endpoint and the JWKS", async () => {
    for (const path of ["/.well-known/jwks.json", "/oauth2/token"]) {
      const res = await callWorker(path, path.startsWith("/oauth2") ? { method: "POST" } : {}, { SIGNING_KEY_ROTATION: "auto", SIGNING_KEY_RETAIN: "60" });
      const body = await expectUnavailable(res);
      expect(body.error_description).toContain("SIGNING_KEY_RETAIN must be at least ACCESS_TOKEN_TTL + CLOCK_SKEW");
    }
  });
});
