/**
 * The key ring's part of the management API (SPEC §12), mounted inside routes/admin.ts behind the
 * admin bearer token: `GET /admin/keys` lists the signing keys and their schedule, `POST
 * /admin/keys/rotate` is the emergency rotation (`{"remove_previous": true}` after a compromise).
 * Both write one audit line (kids and times, never key material).
 */
import { Hono } from "hono";
import { audit, NO_STORE, readAdminJson } from "../http/admin.js";
import type { AppEnv } from "../http/app-types.js";
import type { ServerContext } from "../context.js";
import { OAuthError } from "../core/errors.js";
import { keyStateAt, type RingKey, type RingKeyState, type RingSnapshot } from "../core/key-ring.js";
import * as z from "../zod.js";

export const keyAdminRoutes = new Hono<AppEnv>();

/** One key as GET /admin/keys lists it. Times are seconds since the epoch; null where a key has none. */
interface ListedKey {
  kid: string;
  alg: string;
  /** SPEC §12 states; `published` only for a SIGNING_KEYS key that is not the first (manual keys). */
  state: RingKeyState | "published";
  /** `ring`: generated and rotated by the service; `SIGNING_KEYS`: the operator's secret. */
  source: "ring" | "SIGNING_KEYS";
  published_at: number | null;
  signs_from: number | null;
  signs_until: number | null;
  unpublished_at: number | null;
}

keyAdminRoutes.get("/admin/keys", async (c) => {
  const server = c.get("server");
  const body = await keyListing(server);
  audit("signing_keys_listed", { rotation: body.rotation });
  return c.json(body, 200, NO_STORE);
});

const RotationSchema = z.strictObject({ remove_previous: z.optional(z.boolean()) });

keyAdminRoutes.post("/admin/keys/rotate", async (c) => {
  const server = c.get("server");
  // The body is optional: without one, the previous key is retained (a routine early rotation).
  const parsed = RotationSchema.safeParse((await readAdminJson(c, "request", { optional: true })) ?? {});
  if (!parsed.success) throw new OAuthError("key_rotation_body_invalid");
  const { remove_previous: removePrevious = false } = parsed.data;
  if (server.stores.keyRing === null) throw new OAuthError("key_rotation_manual");
  const rotation = await server.stores.keyRing.rotate(removePrevious);
  // The keys that signed before: the previous key, which stops at `signs_from` (and is removed then with remove_previous).
  const previous = rotation.snapshot.keys.filter((key) => key.kid !== rotation.kid && key.signs_from < key.signs_until && key.signs_from < rotation.signs_from).map((key) => key.kid);
  audit("signing_keys_rotated", { kid: rotation.kid, signs_from: rotation.signs_from, remove_previous: removePrevious, previous });
  const listing = await keyListing(server, rotation.snapshot);
  return c.json({ kid: rotation.kid, signs_from: rotation.signs_from, remove_previous: removePrevious, previous, ...listing }, 200, NO_STORE);
});

/**
 * The keys now: the ring's (with SIGNING_KEYS' beside them, published, not signing), or SIGNING_KEYS'
 * alone. Reads no private key, so it answers even when the signing key cannot be opened.
 */
async function keyListing(server: ServerContext, known?: RingSnapshot) {
  const { settings, stores, secrets } = server;
  if (stores.keyRing === null || settings.keyRing === null) {
    const published = await secrets.signingKeys();
    const keys = published.publicJwks.keys.map((jwk): ListedKey => ({
      ...operatorKey(jwk.kid!, jwk.alg ?? published.verificationKeys.get(jwk.kid!)?.alg ?? ""),
      state: jwk.kid === published.active.kid ? "signing" : "published",
    }));
    return { rotation: "manual" as const, schedule: null, jwks_max_age: settings.jwksMaxAgeSeconds, keys };
  }
  const snapshot = known ?? (await stores.keyRing.status());
  const now = server.clock();
  const ringKids = new Set(snapshot.keys.map((key) => key.kid));
  const ring = [...snapshot.keys].sort((a, b) => a.signs_from - b.signs_from || a.published_at - b.published_at).map((key) => ringKey(key, now));
  const operator = (await stores.keyRing.operatorKeys()).filter((jwk) => !ringKids.has(jwk.kid!)).map((jwk): ListedKey => ({ ...operatorKey(jwk.kid!, jwk.alg ?? ""), state: "retired" }));
  const { lifetimeSeconds, publishAheadSeconds, retainSeconds } = settings.keyRing;
  return {
    rotation: "auto" as const,
    schedule: { lifetime: lifetimeSeconds, publish_ahead: publishAheadSeconds, retain: retainSeconds },
    jwks_max_age: settings.jwksMaxAgeSeconds,
    keys: [...ring, ...operator],
  };
}

function ringKey(key: RingKey, now: number): ListedKey {
  const { kid, alg, published_at, signs_from, signs_until, unpublished_at } = key;
  return { kid, alg, state: keyStateAt(key, now), source: "ring", published_at, signs_from, signs_until, unpublished_at };
}

function operatorKey(kid: string, alg: string): Omit<ListedKey, "state"> {
  return { kid, alg, source: "SIGNING_KEYS", published_at: null, signs_from: null, signs_until: null, unpublished_at: null };
}

