/**
 * What `npm pack` makes of this repository is what a resource server or an operator installs
 * (README "The resource-server and client package"): the `./resource` and `./client` exports and
 * the `ets` binary, each with every module it imports, and none of the Worker's code. The docs
 * test installs that tarball for the programs of docs/resource-servers.md.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { expect, it } from "vitest";

interface PackageJson {
  exports: Record<string, string>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  private?: boolean;
}
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as PackageJson;
const packed = (JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);

it("the tarball holds every module the exports and the bin import, and their packages are dependencies", async () => {
  const entries = [...Object.values(pkg.exports), ...Object.values(pkg.bin)];
  const result = await build({ entryPoints: entries, bundle: true, platform: "node", format: "esm", packages: "external", write: false, metafile: true, outdir: "out", logLevel: "silent" });
  const modules = Object.keys(result.metafile.inputs);
  expect(modules.length).toBeGreaterThan(entries.length);
  expect(modules.filter((path) => !packed.includes(path))).toEqual([]);
  const packages = new Set(
    Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external && !i.path.startsWith("node:")).map((i) => i.path.split("/")[0]!)),
  );
  expect([...packages].filter((name) => !(name in pkg.dependencies))).toEqual([]);
});

it("the tarball holds none of the Worker's code and no local secret", () => {
  expect(packed.filter((path) => path.endsWith(".ts") || /\.dev\.vars|\.secrets|private\.jwk|wrangler\.toml/.test(path))).toEqual([]);
  // Not on npm yet (README): `npm publish` refuses a private package, so no one publishes it by accident.
  expect(pkg.private).toBe(true);
});
