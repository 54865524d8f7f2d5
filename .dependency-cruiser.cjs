/**
 * The layers of src/ (src/README.md), enforced in `npm test`: dependencies run one way,
 *   composition (index, app, context, local-dev) → routes → http helpers → oauth → stores → core,
 * with config.ts, clock.ts, zod.ts and memo.ts beside core (they import only core and libraries;
 * core itself uses zod.ts, the one way in to zod).
 * One rule per forbidden direction, and no cycles. Type-only imports count (tsPreCompilationDeps).
 */
const COMPOSITION = "^src/(index|app|context|local-dev)\\.ts$";
const BASE = "^src/(config|clock|zod|memo)\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: split out what both need (usually into core/).",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "core-imports-only-core",
      severity: "error",
      comment: "core/ is the shared vocabulary below every layer: of src/ it imports only itself and zod.ts.",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: ["^src/core/", "^src/zod\\.ts$"] },
    },
    {
      name: "base-imports-only-core",
      severity: "error",
      comment: "config, clock, zod and memo sit beside core: every layer may use them, so they use only core.",
      from: { path: BASE },
      to: { path: "^src/", pathNot: ["^src/core/", BASE] },
    },
    {
      name: "stores-not-upward",
      severity: "error",
      comment: "stores/ holds storage behind small modules: no OAuth rules, HTTP, routes or composition.",
      from: { path: "^src/stores/" },
      to: { path: ["^src/(oauth|http|routes)/", COMPOSITION] },
    },
    {
      name: "oauth-not-upward",
      severity: "error",
      comment: "oauth/ holds the rules as plain typed functions: no HTTP helpers, routes or composition (local dev included).",
      from: { path: "^src/oauth/" },
      to: { path: ["^src/(http|routes)/", COMPOSITION] },
    },
    {
      name: "oauth-no-hono",
      severity: "error",
      comment: "The rules know no web framework: Hono is for routes/ and http/.",
      from: { path: "^src/(oauth|stores|core)/" },
      to: { path: "node_modules/hono/" },
    },
    {
      name: "http-not-routes",
      severity: "error",
      comment: "http/ helpers serve the routes; they do not know them.",
      from: { path: "^src/http/" },
      to: { path: ["^src/routes/", "^src/(index|app)\\.ts$"] },
    },
    {
      name: "routes-not-entry",
      severity: "error",
      comment: "Routes are mounted by app.ts; they never import the app or the Worker entry.",
      from: { path: "^src/routes/" },
      to: { path: "^src/(index|app)\\.ts$" },
    },
    {
      name: "libraries-only-core",
      severity: "error",
      comment: "The plain-JS packages (CLI, client, resource) run outside the Worker: of the server code they import only core/.",
      from: { path: "^src/(cli|client|resource)/" },
      to: { path: "^src/", pathNot: ["^src/(cli|client|resource|core)/"] },
    },
    {
      name: "nothing-imports-cli",
      severity: "error",
      comment: "The CLI is a program at the top; nothing in src/ depends on it.",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
