/**
 * SPEC §8: the settings (src/config.ts): their documented defaults, and a deployment missing or
 * misconfiguring a setting answers 503 `temporarily_unavailable` naming it, never a 500. The
 * Worker is called directly with a changed `env` (as `wrangler dev` without secrets would run).
 * SPEC §12: the start checks of the key ring's schedule, each failing with an error that names its
 * var, and what the service derives from them; one check end to end through the Worker.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadSettings } from "../src/config.js";
import testSecrets from "./fixtures/server-secrets.json" with { type: "json" };
import { expectUnavailable as expectUnavailableBody } from "./support/faults.js";
import { callWorker, formInit, ISSUER, JWT_BEARER, keyAssertion, registerKeyClient, registerSecretClient, TOKEN_URL } from "./support/helpers.js";

/** Plain `wrangler dev` on a fresh clone: no ISSUER, no secrets, no SAMPLE_JWT_ROUTE. */
const BARE = { ISSUER: undefined, SIGNING_KEYS: undefined, CLIENT_SECRET_KEY: undefined, ADMIN_TOKEN: undefined, SAMPLE_JWT_ROUTE: undefined };

async function expectUnavailable(res: Response, setting: string, secretValue?: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(503);
  const body = JSON.parse(text);
  expect(body.error).toBe("temporarily_unavailable");
  expect(body.error_description).toContain(setting);
  if (secretValue) expect(text).not.toContain(secretValue);
}

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

describe("a deployment missing a secret names it", () => {
  it("SIGNING_KEYS: metadata, JWKS and the token endpoint answer 503, and the assertion is not burnt", async () => {
    const missing = { SIGNING_KEYS: undefined };
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, missing), "SIGNING_KEYS");
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, missing), "SIGNING_KEYS");

    const client = await registerKeyClient();
    const form = formInit({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await keyAssertion(client) });
    await expectUnavailable(await callWorker(TOKEN_URL, form, missing), "SIGNING_KEYS");
    expect((await callWorker(TOKEN_URL, form)).status).toBe(200);
  });

  it("CLIENT_SECRET_KEY: a secret-based client gets 503 naming it, not invalid_client", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
    await expectUnavailable(await callWorker(TOKEN_URL, form, { CLIENT_SECRET_KEY: undefined }), "CLIENT_SECRET_KEY");
  });

  it("ADMIN_TOKEN: the admin API answers 503 naming it", async () => {
    const res = await callWorker(`${ISSUER}/admin/clients`, { headers: { Authorization: "Bearer anything" } }, { ADMIN_TOKEN: undefined });
    await expectUnavailable(res, "ADMIN_TOKEN");
  });

  it("ADMIN_TOKEN that is trivially guessable: 503 naming it, and the guessable token is never accepted (issue 18)", async () => {
    for (const guessable of ["a".repeat(40), "ab".repeat(20), "abcd1234".repeat(5), "abcdefghijklmnopqrstuvwxyz0123456789", "9876543210".repeat(4)]) {
      const res = await callWorker(`${ISSUER}/admin/clients`, { headers: { Authorization: `Bearer ${guessable}` } }, { ADMIN_TOKEN: guessable });
      const text = await res.text();
      expect(res.status, guessable).toBe(503);
      expect(JSON.parse(text).error_description, guessable).toMatch(/ADMIN_TOKEN .*trivially guessable/);
      expect(text).not.toContain(guessable);
    }
  });
});

describe("invalid settings answer 503 naming the setting, never 500", () => {
  const cases: [string, string][] = [
    ["ACCESS_TOKEN_TTL", "soon"],
    ["ACCESS_TOKEN_TTL", "0"],
    ["ACCESS_TOKEN_TTL", "1.5"],
    ["ASSERTION_MAX_LIFETIME", "-300"],
    ["CLOCK_SKEW", "fifteen"],
    ["AUDIENCE_MODE", "lenient"],
    ["SAMPLE_JWT_ROUTE", "maybe"],
    ["ISSUER", "not a url"],
    ["ISSUER", "https://issuer.test/"],
    ["DEFAULT_AUDIENCE", "https://aud.example/#frag"],
    ["REPLAY_GUARD_TIMEOUT_MS", "0"],
  ];
  for (const [setting, value] of cases) {
    it(`${setting}=${JSON.stringify(value)}`, async () => {
      await expectUnavailable(await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, { [setting]: value }), setting);
    });
  }

  it("says what is wrong with the value, in English (src/zod.ts loads zod's locale)", async () => {
    const res = await callWorker(`${ISSUER}/.well-known/oauth-authorization-server`, {}, { AUDIENCE_MODE: "lenient" });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error_description).toContain("AUDIENCE_MODE is invalid: Invalid option: expected one of 'compat'|'strict'");
  });

  it("an invalid SIGNING_KEYS names it without echoing the value", async () => {
    const value = `{"keys":[${testSecrets.SIGNING_KEYS}`;
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, { SIGNING_KEYS: value }), "SIGNING_KEYS", value);
    const publicOnly = JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "AA", y: "AA", kid: "p", alg: "ES256" }] });
    await expectUnavailable(await callWorker(`${ISSUER}/.well-known/jwks.json`, {}, { SIGNING_KEYS: publicOnly }), "SIGNING_KEYS");
  });

  it("an invalid CLIENT_SECRET_KEY names it without echoing the value", async () => {
    const { clientId, secret } = await registerSecretClient("client_secret_post");
    const form = formInit({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
    await expectUnavailable(await callWorker(TOKEN_URL, form, { CLIENT_SECRET_KEY: "too-short-key" }), "CLIENT_SECRET_KEY", "too-short-key");
  });
});

describe("/healthz", () => {
  it("answers 200 without secrets, whatever the configuration", async () => {
    for (const overrides of [{}, BARE, { ACCESS_TOKEN_TTL: "soon", SIGNING_KEYS: "{" }]) {
      const res = await callWorker(`${ISSUER}/healthz`, {}, overrides);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: "ok" });
      for (const secret of Object.values(testSecrets)) expect(text).not.toContain(secret);
    }
  });
});

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
      const body = await expectUnavailableBody(res);
      expect(body.error_description).toContain("SIGNING_KEY_RETAIN must be at least ACCESS_TOKEN_TTL + CLOCK_SKEW");
    }
  });
});
