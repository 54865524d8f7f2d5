/**
 * Variants of the Worker for bench/experiment.mjs: each is a list of exact text replacements
 * applied to a temporary copy of the repository (src/ itself is never touched), so one change can
 * be measured against the baseline in the same run. A replacement whose text is not found fails
 * loudly (src/ moved on: update the variant).
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
