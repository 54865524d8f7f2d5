/**
 * The design floor (`node bench/experiment.mjs floor`, and a row of `npm run bench`): what one
 * token costs at the least in this runtime, with none of our code on the path. POST /oauth2/token
 * reads the form, verifies the ES256 client assertion and signs an ES256 access token with jose
 * (the JOSE pair), and makes one Durable Object call (the real `ReplayGuard.consume`). No Hono, no
 * OAuth rules. Everything else goes to the real app (the bench registers its client through it).
 *
 * BENCH_FLOOR: `http` answers a constant (workerd's HTTP alone), `jose` skips the Durable Object
 * call, anything else is the whole floor. BENCH_CLIENT_JWK: the bench client's public JWK.
 */
import { CompactSign, compactVerify, importJWK, type JWK } from "jose";
import { app } from "../../src/app.js";

export { DevSecrets, QuotaCounter, RegistryWriter, ReplayGuard, RevocationList, SigningKeyRing } from "../../src/index.js";

type FloorEnv = Env & { BENCH_FLOOR?: string; BENCH_CLIENT_JWK?: string };
interface Keys {
  client: CryptoKey;
  signing: CryptoKey;
  kid: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };
const SHARDS = 64;
let keys: Promise<Keys> | undefined;
const ids = new Map<number, DurableObjectId>();

async function loadKeys(env: FloorEnv): Promise<Keys> {
  const signingJwk = (JSON.parse(env.SIGNING_KEYS ?? "") as { keys: JWK[] }).keys[0]!;
  const client = (await importJWK(JSON.parse(env.BENCH_CLIENT_JWK ?? "") as JWK, "ES256")) as CryptoKey;
  const signing = (await importJWK(signingJwk, "ES256")) as CryptoKey;
  return { client, signing, kid: signingJwk.kid ?? "" };
}

function shardOf(jti: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jti.length; i++) hash = Math.imul(hash ^ jti.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SHARDS;
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext) {
    if (request.method !== "POST" || !request.url.endsWith("/oauth2/token")) return app.fetch(request, env, ctx);
    const mode = env.BENCH_FLOOR ?? "jose+do";
    if (mode === "http") return new Response('{"access_token":"ey"}', { headers: HEADERS });
    const form = new URLSearchParams(await request.text());
    keys ??= loadKeys(env);
    const { client, signing, kid } = await keys;
    const { payload } = await compactVerify(form.get("client_assertion") ?? "", client, { algorithms: ["ES256"] });
    const claims = JSON.parse(decoder.decode(payload)) as { sub: string; aud: string; jti: string; exp: number };
    if (mode !== "jose") {
      const shard = shardOf(claims.jti);
      let id = ids.get(shard);
      if (!id) ids.set(shard, (id = env.REPLAY_GUARD.idFromName(`floor-${shard}`)));
      if (!(await env.REPLAY_GUARD.get(id).consume(`${claims.sub}:${claims.jti}`, claims.exp))) {
        return new Response('{"error":"invalid_client"}', { status: 401, headers: HEADERS });
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const token = await new CompactSign(
      encoder.encode(JSON.stringify({ iss: claims.aud, sub: claims.sub, client_id: claims.sub, aud: claims.aud, iat: now, exp: now + 3600, jti: crypto.randomUUID() })),
    )
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
      .sign(signing);
    return new Response(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 3600 }), { headers: HEADERS });
  },
} satisfies ExportedHandler<FloorEnv>;
