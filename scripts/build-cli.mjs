// Bundles the `app-backup` CLI into dist/cli/app-backup.mjs, with the modules
// only some runs need (the Azure SDK, @azure/identity, each database driver)
// split into chunks beside it that load when first used. A command then loads
// one file of what it runs rather than several hundred modules: start-up is
// most of the time of a short command (`show latest`, `list` of a small app).
//
// Usage: node scripts/build-cli.mjs [outdir]   (default: dist/cli)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { nodeBundleOptions } from "./node-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "dist/cli"));

await build({
  absWorkingDir: root,
  entryPoints: { "app-backup": "cli/bin.ts" },
  outdir,
  ...nodeBundleOptions("node20"),
  // Unlike the Action's, the CLI's bundle sits in a package: the chunks ship beside it.
  splitting: true,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
});
