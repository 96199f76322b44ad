// Builds the provider plugin `pulumi-resource-app-backup` as Pulumi installs plugins:
// dist/plugin/pulumi-resource-app-backup-v{version}-linux-amd64.tar.gz, holding the
// launcher of that name and the provider bundled into one ES module with every
// dependency, so it runs from the plugin folder with no node_modules. The package
// schema, generated from the provider's (itself from the configuration schema), is
// written beside it as dist/plugin/schema.json for `pulumi package gen-sdk`.
//
// Usage: node scripts/build-plugin.mjs
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { nodeBundleOptions } from "./node-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "dist/plugin");
const stageDir = path.join(outDir, "stage");
const { version } = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
const pluginName = "pulumi-resource-app-backup";
const tarball = path.join(outDir, `${pluginName}-v${version}-linux-amd64.tar.gz`);

// The engine runs the plugin by name; Node runs the bundle. Pulumi's SDK needs Node 22 or newer.
const launcher = `#!/bin/sh
# ${pluginName}: app-backup's Pulumi provider, run on the Node.js found on PATH (22 or newer).
plugin_dir=$(dirname "$(readlink -f "$0")")
if ! command -v node >/dev/null 2>&1; then
  echo "${pluginName}: node is not on PATH; install Node.js 22 or newer where pulumi runs." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
  echo "${pluginName}: needs Node.js 22 or newer, and the node on PATH is $(node --version); put a newer one first on PATH." >&2
  exit 1
fi
exec node "$plugin_dir/${pluginName}.mjs" "$@"
`;

await rm(outDir, { recursive: true, force: true });
await mkdir(stageDir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ["provider/plugin/main.ts"],
  outfile: path.join(stageDir, `${pluginName}.mjs`),
  ...nodeBundleOptions("node22"),
});
await writeFile(path.join(stageDir, pluginName), launcher);
await chmod(path.join(stageDir, pluginName), 0o755);

// The schema the plugin serves, from the built provider: one source for both.
const { packageSchema } = await import(pathToFileURL(path.join(root, "dist/provider/plugin/schema.js")).href);
await writeFile(path.join(outDir, "schema.json"), JSON.stringify(packageSchema(version), null, 2) + "\n");

execFileSync("tar", ["-czf", tarball, "--owner=0", "--group=0", "--sort=name", "-C", stageDir, pluginName, `${pluginName}.mjs`]);
await rm(stageDir, { recursive: true, force: true });
console.log(path.relative(root, tarball));
