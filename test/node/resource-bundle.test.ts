// edge-token-service/resource stays a client-side module: bundled for a Worker, it pulls in its own
// files and jose, never server code (routes, stores, config) or Node built-ins.
import { build } from "esbuild";
import { expect, test } from "vitest";

test("a Worker importing edge-token-service/resource bundles only src/resource/ and jose", async () => {
  const result = await build({
    stdin: { contents: 'export { verifyAccessToken, accessTokenAuth, protectedResourceMetadata } from "edge-token-service/resource";', resolveDir: process.cwd() },
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    write: false,
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).filter((path) => path !== "<stdin>");
  const outsideJose = inputs.filter((path) => !path.startsWith("node_modules/jose/"));
  expect(outsideJose.every((path) => path.startsWith("src/resource/")), outsideJose.join("\n")).toBe(true);
  expect(inputs.some((path) => path.startsWith("node_modules/jose/"))).toBe(true);
});
