// Bundles the GitHub Action into action/dist/index.js (main) and action/dist/post.js
// (post): one self-contained ES module each, since an action runs from a checkout
// with no node_modules. The output depends only on the sources and the esbuild
// version (no timestamps, paths relative to the repository), so
// scripts/check-action-bundle.sh can compare a fresh build with the committed one.
//
// Usage: node scripts/build-action.mjs [outdir]   (default: action/dist)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { nodeBundleOptions, printOutputs } from "./esbuild-node.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "action/dist"));

const result = await build({
  ...nodeBundleOptions,
  absWorkingDir: root,
  entryPoints: { index: "action/src/index.ts", post: "action/src/post.ts" },
  outdir,
  target: "node24",
  // Database drivers and @azure/identity are imported dynamically; without
  // code splitting esbuild inlines them, keeping one file per entry.
  splitting: false,
});

printOutputs(result);
