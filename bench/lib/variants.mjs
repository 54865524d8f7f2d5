/**
 * Variants of the Worker for bench/experiment.mjs: each is a list of exact text replacements
 * applied to a temporary copy of the repository (src/ itself is never touched), so one change can
 * be measured against the baseline in the same run. A replacement whose text is not found fails
 * loudly (src/ moved on: update the variant).
 *
 * Most variants below were written against the code of bench commit 30d9540 and the findings in
 * bench/FINDINGS.md were measured with them there (`git worktree add /tmp/b 30d9540` to rerun).
 * Since then the replay guard moved onto stores/shards.ts and R3–R6 landed in src/, so
 * `batched-do`, `cached-ids`, `compact-sign`, `form-decoder`, `no-secure-headers` and the
 * replay-guard diagnostics no longer apply; `baseline`, `no-do`-style shard-count variants
 * (`one-shard`, `four-shards`, `shards-64`) still do.
 */

/** name → { about, patches: [{ file, find, replace }], vars? } */
export const VARIANTS = {
  baseline: { about: "the code as it is", patches: [] },

  "no-do": {
    about: "replay guard skipped (consumeOnce returns true): what the Durable Object costs",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "    async consumeOnce(clientId, jti, expiresAt) {\n",
        replace: "    async consumeOnce(clientId, jti, expiresAt) {\n      if (clientId !== '') return true;\n",
      },
    ],
  },

  "no-timeout": {
    about: "no setTimeout + Promise.race around the Durable Object call",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "        return await Promise.race([stub.consume(key, expiresAt), timeout]);",
        replace: "        void timeout.catch(() => {}); clearTimeout(timer); return await stub.consume(key, expiresAt);",
      },
    ],
  },

  "cached-stubs": {
    about: "one Durable Object stub per shard per isolate instead of idFromName + get per request",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "        const stub = namespace.get(namespace.idFromName(`replay-guard-${shard}`));",
        replace:
          "        let stub = stubs[shard];\n        if (stub === undefined) stub = stubs[shard] = namespace.get(namespace.idFromName(`replay-guard-${shard}`));",
      },
      {
        file: "src/stores/replay-guard.ts",
        find: "  return {\n    async consumeOnce(clientId, jti, expiresAt) {",
        replace: "  const stubs: DurableObjectStub<ReplayGuard>[] = [];\n  return {\n    async consumeOnce(clientId, jti, expiresAt) {",
      },
    ],
  },

  "no-secure-headers": {
    about: "without Hono's secureHeaders middleware",
    patches: [{ file: "src/app.ts", find: 'app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));', replace: "" }],
  },

  "client-cache-600s": {
    about: "client records cached 600 s instead of 10 s (how much the periodic KV refresh costs)",
    patches: [{ file: "src/stores/clients.ts", find: "export const CLIENT_CACHE_SECONDS = 10;", replace: "export const CLIENT_CACHE_SECONDS = 600;" }],
  },

  "batched-do": {
    about:
      "self-clocking batches per shard: while one RPC to a shard is in flight, later consumeOnce calls queue and go together in the next consumeMany RPC (sent from a waiting request's own context)",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "  override async alarm(): Promise<void> {",
        replace: `  /** Batch form of consume(): one result per [key, expiresAt], in order (duplicates in a batch: first wins). */
  async consumeMany(items: [string, number][]): Promise<boolean[]> {
    const out: boolean[] = [];
    let latest = 0;
    for (const [key, expiresAt] of items) {
      const rows = this.ctx.storage.sql
        .exec("INSERT INTO used (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING 1", key, expiresAt)
        .toArray();
      out.push(rows.length > 0);
      if (rows.length > 0 && expiresAt > latest) latest = expiresAt;
    }
    if (latest > 0) this.#schedulePurge(latest * 1000);
    return out;
  }

  override async alarm(): Promise<void> {`,
      },
      {
        file: "src/stores/replay-guard.ts",
        find: "export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, shards: number): JtiRegistry {",
        replace: `interface Waiter { key: string; expiresAt: number; done: (ok: boolean) => void; fail: (e: unknown) => void; lead: () => void }
interface ShardQueue { busy: boolean; waiting: Waiter[] }

export function replayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, shards: number): JtiRegistry {
  const queues = new Map<number, ShardQueue>();
  async function sendBatch(shard: number, q: ShardQueue): Promise<void> {
    const batch = q.waiting.splice(0);
    let timer: number | null = null;
    try {
      const stub = namespace.get(namespace.idFromName(\`replay-guard-\${shard}\`));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("replay guard timed out")), REPLAY_GUARD_TIMEOUT_MS);
      });
      const results = await Promise.race([stub.consumeMany(batch.map((w) => [w.key, w.expiresAt] as [string, number])), timeout]);
      batch.forEach((w, i) => w.done(results[i]!));
    } catch (cause) {
      batch.forEach((w) => w.fail(cause));
    } finally {
      clearTimeout(timer);
      // Hand the next batch to a waiting request, which sends it from its own context.
      const next = q.waiting[0];
      if (next) next.lead();
      else q.busy = false;
    }
  }
  return {
    async consumeOnce(clientId, jti, expiresAt) {
      const key = \`\${clientId.length}:\${clientId}\${jti}\`;
      const shard = fnv1a(key) % shards;
      let q = queues.get(shard);
      if (!q) queues.set(shard, (q = { busy: false, waiting: [] }));
      const queue = q;
      try {
        const waiter = {} as Waiter;
        // Resolved when this request must send the next batch itself (from its own context).
        const myTurn = new Promise<null>((lead) => (waiter.lead = () => lead(null)));
        const result = new Promise<boolean>((done, fail) => Object.assign(waiter, { key, expiresAt, done, fail }));
        queue.waiting.push(waiter);
        if (!queue.busy) {
          queue.busy = true;
          waiter.lead();
        }
        // A pending timer of its own: workerd cancels, as hung, a request that waits only on a promise
        // another request will resolve.
        let guard: number | null = null;
        const expired = new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(new Error("replay guard timed out (queued)")), REPLAY_GUARD_TIMEOUT_MS);
        });
        try {
          const first = await Promise.race([result.then((ok) => ({ ok })), myTurn, expired]);
          if (first !== null) return first.ok;
          await sendBatch(shard, queue);
          return await Promise.race([result, expired]);
        } finally {
          clearTimeout(guard);
        }
      } catch (cause) {
        console.error(JSON.stringify({ event: "replay_guard_unavailable", shard, message: String(cause) }));
        throw new OAuthError(
          "temporarily_unavailable",
          "the replay guard could not be reached; no token was issued, retry with a new assertion",
          "replay_guard_unavailable",
        );
      }
    },
  };
}

export function unbatchedReplayGuardRegistry(namespace: DurableObjectNamespace<ReplayGuard>, shards: number): JtiRegistry {`,
      },
    ],
  },

  "batch-size-1": {
    about: "(with batched-do) one key per RPC: at most one RPC in flight per shard per isolate, no batching — tells serialisation from batching",
    patches: [{ file: "src/stores/replay-guard.ts", find: "    const batch = q.waiting.splice(0);", replace: "    const batch = q.waiting.splice(0, 1);" }],
  },

  "do-no-write": {
    about: "diagnostic only (not single-use!): the Durable Object is called but writes nothing — RPC cost without storage commits / output gate",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n",
        replace: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n    if (key !== '') return true;\n",
      },
    ],
  },

  "dispose-stub": {
    about: "diagnostic: dispose the Durable Object stub (Symbol.dispose) right after the call returns",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "        return await Promise.race([stub.consume(key, expiresAt), timeout]);",
        replace:
          "        try {\n          return await Promise.race([stub.consume(key, expiresAt), timeout]);\n        } finally {\n          (stub as unknown as { [Symbol.dispose]?: () => void })[Symbol.dispose]?.();\n        }",
      },
    ],
  },

  "shards-64": { about: "REPLAY_GUARD_SHARDS=64", patches: [], vars: { REPLAY_GUARD_SHARDS: "64" } },
  "shards-16": { about: "REPLAY_GUARD_SHARDS=16", patches: [], vars: { REPLAY_GUARD_SHARDS: "16" } },
  "shards-256": { about: "REPLAY_GUARD_SHARDS=256", patches: [], vars: { REPLAY_GUARD_SHARDS: "256" } },

  "compact-sign": {
    about: "access token signed with jose CompactSign over JSON.stringify(claims) instead of SignJWT (skips the claims builder)",
    patches: [
      { file: "src/oauth/access-token.ts", find: 'import { SignJWT } from "jose";', replace: 'import { CompactSign } from "jose";\nconst claimsEncoder = new TextEncoder();' },
      { file: "src/oauth/access-token.ts", find: "  const token = await new SignJWT(claims)", replace: "  const token = await new CompactSign(claimsEncoder.encode(JSON.stringify(claims)))" },
    ],
  },

  "form-decoder": {
    about: "one module-level TextDecoder for form bodies instead of a new one per request",
    patches: [
      {
        file: "src/http/form.ts",
        find: "  const body = new TextDecoder().decode(await request.arrayBuffer());",
        replace: "  const body = formDecoder.decode(await request.arrayBuffer());",
      },
      { file: "src/http/form.ts", find: "export type FormParams = ReadonlyMap<string, string>;", replace: "export type FormParams = ReadonlyMap<string, string>;\nconst formDecoder = new TextDecoder();" },
    ],
  },

  "cached-ids": {
    about: "DurableObjectId per shard computed once per isolate (idFromName hashes every time); stubs still per request",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "        const stub = namespace.get(namespace.idFromName(`replay-guard-${shard}`));",
        replace: "        const stub = namespace.get((ids[shard] ??= namespace.idFromName(`replay-guard-${shard}`)));",
      },
      {
        file: "src/stores/replay-guard.ts",
        find: "  return {\n    async consumeOnce(clientId, jti, expiresAt) {",
        replace: "  const ids: DurableObjectId[] = [];\n  return {\n    async consumeOnce(clientId, jti, expiresAt) {",
      },
    ],
  },

  "one-shard": { about: "REPLAY_GUARD_SHARDS=1 (one Durable Object)", patches: [], vars: { REPLAY_GUARD_SHARDS: "1" } },
  "four-shards": { about: "REPLAY_GUARD_SHARDS=4", patches: [], vars: { REPLAY_GUARD_SHARDS: "4" } },

  timed: {
    about: "Server-Timing per phase (client lookup, verify, Durable Object, mint, handler total)",
    patches: [
      {
        file: "src/routes/token.ts",
        find: '    const server = c.get("server");\n    const form = await readOAuthForm(c.req.raw);',
        replace:
          '    const __t0 = performance.now();\n    const __t: Record<string, number> = {};\n    const server = c.get("server");\n    const form = await readOAuthForm(c.req.raw);\n    __t.form = performance.now() - __t0;',
      },
      { file: "src/routes/token.ts", find: "      ...clientAuthSettings(server, path),\n", replace: "      ...clientAuthSettings(server, path),\n      __t,\n" },
      {
        file: "src/routes/token.ts",
        find: "    return c.json(response, 200, NO_STORE_HEADERS);",
        replace:
          '    __t.total = performance.now() - __t0;\n    return c.json(response, 200, { ...NO_STORE_HEADERS, "Server-Timing": Object.entries(__t).map(([k, v]) => `${k};dur=${v.toFixed(3)}`).join(", ") });',
      },
      {
        file: "src/oauth/token-request.ts",
        find: "  const authenticated = await authenticateClient(form, authorization, deps, settings);",
        replace:
          "  const __t = (settings as any).__t;\n  let __m = performance.now();\n  const authenticated = await authenticateClient(form, authorization, deps, settings);\n  __t.auth = performance.now() - __m;",
      },
      {
        file: "src/oauth/token-request.ts",
        find: "  await authenticated.commit();\n",
        replace: "  __m = performance.now();\n  await authenticated.commit();\n  __t.do = performance.now() - __m;\n  __m = performance.now();\n",
      },
      {
        file: "src/oauth/token-request.ts",
        find: "  const response: TokenResponse = {",
        replace: "  __t.mint = performance.now() - __m;\n  const response: TokenResponse = {",
      },
      {
        file: "src/oauth/client-auth/index.ts",
        find: "  const client = await findActiveClient(deps, claimedId);\n  const method = client.token_endpoint_auth_method;",
        replace:
          "  const __c = performance.now();\n  const client = await findActiveClient(deps, claimedId);\n  (settings as any).__t.client = performance.now() - __c;\n  const method = client.token_endpoint_auth_method;",
      },
    ],
  },

  "timed-edges": {
    about:
      "Server-Timing with wall-clock edges (ms): arrival → first middleware, DO call → DO method start, DO method, DO return → caller resumes, handler end → response read",
    patches: [
      {
        file: "src/app.ts",
        find: 'app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));',
        replace:
          'app.use(async (c, next) => {\n  const s = Date.now();\n  await next();\n  c.res.headers.append("Server-Timing", `start;dur=${s}, end;dur=${Date.now()}`);\n});\napp.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));',
      },
      { file: "src/routes/token.ts", find: "      ...clientAuthSettings(server, path),\n", replace: "      ...clientAuthSettings(server, path),\n      __t: {},\n" },
      {
        file: "src/routes/token.ts",
        find: "    return c.json(response, 200, NO_STORE_HEADERS);",
        replace:
          '    return c.json(response, 200, { ...NO_STORE_HEADERS, "Server-Timing": Object.entries((response as any).__t ?? {}).map(([k, v]) => `${k};dur=${v}`).join(", ") });',
      },
      {
        file: "src/oauth/token-request.ts",
        find: "  if (decision.scopes.length > 0) response.scope",
        replace: "  Object.defineProperty(response, '__t', { value: (settings as any).__t, enumerable: false });\n  if (decision.scopes.length > 0) response.scope",
      },
      {
        file: "src/oauth/client-auth/index.ts",
        find: "      const firstUse = await deps.jtiRegistry.consumeOnce(client.client_id, verified.jti, verified.exp + settings.clockSkewSeconds);",
        replace:
          "      const __c0 = Date.now();\n      const __r: any = await deps.jtiRegistry.consumeOnce(client.client_id, verified.jti, verified.exp + settings.clockSkewSeconds);\n      const __c1 = Date.now();\n      Object.assign((settings as any).__t, { doCallToStart: __r.s - __c0, doRun: __r.e - __r.s, doReturnToResume: __c1 - __r.e });\n      const firstUse = __r.ok;",
      },
      {
        file: "src/stores/replay-guard.ts",
        find: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n",
        replace: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n    const __s = Date.now();\n",
      },
      { file: "src/stores/replay-guard.ts", find: "    if (rows.length === 0) return false;", replace: "    if (rows.length === 0) return { ok: false, s: __s, e: Date.now() } as any;" },
      {
        file: "src/stores/replay-guard.ts",
        find: "    this.#schedulePurge(expiresAt * 1000);\n    return true;",
        replace: "    this.#schedulePurge(expiresAt * 1000);\n    return { ok: true, s: __s, e: Date.now() } as any;",
      },
    ],
  },
};

/** Apply `names` (combined, in order) to the repository copy at `dir`. */
export function applyVariants(dir, names, { readFileSync, writeFileSync }) {
  const vars = {};
  for (const name of names) {
    const variant = VARIANTS[name];
    if (!variant) throw new Error(`unknown variant "${name}"; known: ${Object.keys(VARIANTS).join(", ")}`);
    for (const { file, find, replace } of variant.patches) {
      const path = `${dir}/${file}`;
      const text = readFileSync(path, "utf8");
      if (!text.includes(find)) throw new Error(`variant ${name}: text not found in ${file}: ${JSON.stringify(find.slice(0, 80))}`);
      writeFileSync(path, text.replace(find, () => replace));
    }
    Object.assign(vars, variant.vars);
  }
  return vars;
}
