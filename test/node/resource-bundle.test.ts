// edge-token-service/resource stays a client-side module: bundled for a Worker, it pulls in its own
// files, the plain-JS vocabulary of src/core/ it shares with the server (DPoP, algorithms,
// protocol names) and jose, never server code (routes, oauth, stores, config, any TypeScript) or
// Node built-ins.
import { build } from "esbuild";
import { expect, test } from "vitest";

test("a Worker importing edge-token-service/resource bundles only src/resource/, src/core/*.js and jose", async () => {
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
  const shared = (path: string) => path.startsWith("src/resource/") || /^src\/core\/[\w-]+\.js$/.test(path);
  expect(outsideJose.every(shared), outsideJose.join("\n")).toBe(true);
  expect(outsideJose.some((path) => path.startsWith("src/core/"))).toBe(true);
  expect(inputs.some((path) => path.startsWith("node_modules/jose/"))).toBe(true);
});
