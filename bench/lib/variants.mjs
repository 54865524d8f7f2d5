/**
 * Variants of the Worker for bench/experiment.mjs: each is a list of exact text replacements
 * applied to a temporary copy of the repository (src/ itself is never touched), so one change can
 * be measured against the baseline in the same run. A replacement whose text is not found fails
 * loudly (src/ moved on: update the variant).
 *
 * These apply to the code as it is now. The variants behind the first findings in
 * bench/FINDINGS.md (batched-do, cached-ids, compact-sign, form-decoder, timed, timed-edges, …)
 * patched the code of bench commit 30d9540; they are in this file at that commit
 * (`git show 30d9540:bench/lib/variants.mjs`, `git worktree add /tmp/b 30d9540` to rerun them).
 */

/** name → { about, patches: [{ file, find, replace }], vars? } */
export const VARIANTS = {
  baseline: { about: "the code as it is", patches: [] },

  "no-do": {
    about: "diagnostic only (not single-use!): replay guard skipped (consumeOnce returns true) — what the Durable Object costs",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "    async consumeOnce(clientId, jti, expiresAt) {\n",
        replace: "    async consumeOnce(clientId, jti, expiresAt) {\n      if (clientId !== '') return true;\n",
      },
    ],
  },

  "do-no-write": {
    about: "diagnostic only (not single-use!): the Durable Object is called but writes nothing — RPC cost without SQLite or output gate",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n",
        replace: "  async consume(key: string, expiresAt: number): Promise<boolean> {\n    if (key !== '') return true;\n",
      },
    ],
  },

  "no-timeout": {
    about: "diagnostic: no setTimeout + Promise.race deadline around the shard call",
    patches: [
      {
        file: "src/stores/shards.ts",
        find: "    return await Promise.race([call(stub), timeout]);",
        replace: "    void timeout.catch(() => {});\n    clearTimeout(timer);\n    return await call(stub);",
      },
    ],
  },

  "no-expiry-index": {
    about: "no index on expires_at (one B-tree per insert instead of two); the purge scans the table",
    patches: [
      {
        file: "src/stores/expiring-keys.ts",
        find: "      sql.exec(`CREATE INDEX IF NOT EXISTS ${table}_expires_at ON ${table} (expires_at)`);\n",
        replace: "",
      },
    ],
  },

  "empty-handler": {
    about: "diagnostic only: the token route answers {\"access_token\":\"ey\"} at once — what workerd's HTTP, Hono and the middleware cost per request",
    patches: [
      {
        file: "src/routes/token.ts",
        find: '    const server = c.get("server");\n    const form = await readOAuthForm(c.req.raw);',
        replace: '    if (path !== "") return c.json({ access_token: "ey" }, 200, NO_STORE_HEADERS);\n    const server = c.get("server");\n    const form = await readOAuthForm(c.req.raw);',
      },
    ],
  },

  "empty-worker": {
    about: "diagnostic only: the Worker answers the token path before Hono — what workerd's HTTP alone costs per request",
    patches: [
      {
        file: "src/index.ts",
        find: "export default app satisfies ExportedHandler<Env>;",
        replace:
          'export default { fetch(request: Request, env: Env, ctx: ExecutionContext) { if (request.method === "POST" && request.url.endsWith("/oauth2/token")) return new Response(\'{"access_token":"ey"}\', { headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } }); return app.fetch(request, env, ctx); } } satisfies ExportedHandler<Env>;',
      },
    ],
  },

  "direct-token": {
    about: "diagnostic: POST /oauth2/token handled before Hono (same steps as the route, errors only for OAuthError) — what Hono and the middleware cost on the hot path",
    patches: [
      {
        file: "src/index.ts",
        find: "export default app satisfies ExportedHandler<Env>;",
        replace: `import { clientAuthSettings, serverContext } from "./context.js";
import { NO_STORE_HEADERS, OAuthError, oauthErrorResponse } from "./http/errors.js";
import { readOAuthForm } from "./http/form.js";
import { FORM_BODY_LIMIT_BYTES } from "./http/limits.js";
import { handleTokenRequest } from "./oauth/token-request.js";
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const length = request.headers.get("content-length");
    if (request.method !== "POST" || !request.url.endsWith("/oauth2/token") || length === null || Number(length) > FORM_BODY_LIMIT_BYTES || request.headers.has("DPoP")) return app.fetch(request, env, ctx);
    try {
      const server = serverContext(env, new URL(request.url));
      const form = await readOAuthForm(request);
      const settings = { ...clientAuthSettings(server, "/oauth2/token"), accessTokenTtlSeconds: server.settings.accessTokenTtlSeconds, defaultAudience: server.settings.defaultAudience ?? server.issuer, dpopNonce: server.settings.dpopNonce };
      const response = await handleTokenRequest(form, request.headers.get("Authorization"), server, settings);
      return new Response(JSON.stringify(response), { headers: { ...NO_STORE_HEADERS, "Content-Type": "application/json" } });
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  },
} satisfies ExportedHandler<Env>;`,
      },
    ],
  },

  "do-fetch": {
    about: "the replay guard called through the Durable Object's fetch() (key and expiry in headers, 204 first use / 409 replay) instead of JS RPC",
    patches: [
      {
        file: "src/stores/replay-guard.ts",
        find: "  override async alarm(): Promise<void> {",
        replace: `  override fetch(request: Request): Response {
    const key = request.headers.get("x-key");
    const expiresAt = Number(request.headers.get("x-exp"));
    if (key === null || !Number.isFinite(expiresAt)) return new Response(null, { status: 400 });
    return new Response(null, { status: this.#used.add(key, expiresAt) ? 204 : 409 });
  }

  override async alarm(): Promise<void> {`,
      },
      {
        file: "src/stores/replay-guard.ts",
        find: "      return callShard(shardSet, key, (stub) => stub.consume(key, expiresAt));",
        replace: `      return callShard(shardSet, key, async (stub) => {
        const res = await stub.fetch("https://replay-guard/consume", { method: "POST", headers: { "x-key": key, "x-exp": String(expiresAt) } });
        if (res.status === 204) return true;
        if (res.status === 409) return false;
        throw new Error(\`replay guard answered \${res.status}\`);
      });`,
      },
    ],
  },

  "insert-or-ignore": {
    about: "INSERT OR IGNORE and the cursor's rowsWritten instead of ON CONFLICT DO NOTHING RETURNING + toArray()",
    patches: [
      {
        file: "src/stores/expiring-keys.ts",
        find: "    const rows = this.#ctx.storage.sql\n      .exec(`INSERT INTO ${this.#table} (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING 1`, key, expiresAt)\n      .toArray();\n    if (rows.length === 0) return false;",
        replace: "    const cursor = this.#ctx.storage.sql.exec(`INSERT OR IGNORE INTO ${this.#table} (key, expires_at) VALUES (?, ?)`, key, expiresAt);\n    cursor.toArray();\n    if (cursor.rowsWritten === 0) return false;",
      },
    ],
  },

  "no-crypto": {
    about: "diagnostic only (accepts forged assertions!): no signature verification and a constant access token — what jose and WebCrypto cost inside workerd",
    patches: [
      {
        file: "src/oauth/client-auth/assertion.ts",
        find: "    await compactVerify(parsed.compact, key, { algorithms: [alg] });",
        replace: "    if (key === null) await compactVerify(parsed.compact, key, { algorithms: [alg] });",
      },
      {
        file: "src/oauth/access-token.ts",
        find: "  const token = await new CompactSign(claimsEncoder.encode(JSON.stringify(claims)))",
        replace: "  const token = keys.active.kid !== '' ? `eyJ.${btoa(JSON.stringify(claims))}.sig` : await new CompactSign(claimsEncoder.encode(JSON.stringify(claims)))",
      },
    ],
  },

  "shards-16": { about: "REPLAY_GUARD_SHARDS=16", patches: [], vars: { REPLAY_GUARD_SHARDS: "16" } },
  "shards-64": { about: "REPLAY_GUARD_SHARDS=64 (the default)", patches: [], vars: { REPLAY_GUARD_SHARDS: "64" } },
  "shards-256": { about: "REPLAY_GUARD_SHARDS=256", patches: [], vars: { REPLAY_GUARD_SHARDS: "256" } },
  "one-shard": { about: "REPLAY_GUARD_SHARDS=1 (one Durable Object)", patches: [], vars: { REPLAY_GUARD_SHARDS: "1" } },
  "four-shards": { about: "REPLAY_GUARD_SHARDS=4", patches: [], vars: { REPLAY_GUARD_SHARDS: "4" } },
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
