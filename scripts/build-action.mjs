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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "action/dist"));

// Bundled CommonJS packages call require() and read __dirname/__filename, which
// an ES module lacks. The banner provides them under names no module declares;
// `define` points the free uses at them (modules that declare their own keep theirs).
const banner = [
  'import { createRequire as __appBackupCreateRequire } from "node:module";',
  'import { fileURLToPath as __appBackupFileURLToPath } from "node:url";',
  'import { dirname as __appBackupPathDirname } from "node:path";',
  "const require = __appBackupCreateRequire(import.meta.url);",
  "const __appBackupFilename = __appBackupFileURLToPath(import.meta.url);",
  "const __appBackupDirname = __appBackupPathDirname(__appBackupFilename);",
].join("\n");

const result = await build({
  absWorkingDir: root,
  entryPoints: { index: "action/src/index.ts", post: "action/src/post.ts" },
  outdir,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  // Database drivers and @azure/identity are imported dynamically; without
  // code splitting esbuild inlines them, keeping one file per entry.
  splitting: false,
  banner: { js: banner },
  define: { __filename: "__appBackupFilename", __dirname: "__appBackupDirname" },
  // pg's optional native binding, loaded only with NODE_PG_FORCE_NATIVE set.
  external: ["pg-native"],
  legalComments: "eof",
  charset: "utf8",
  sourcemap: false,
  metafile: true,
  logLevel: "warning",
});

for (const [file, output] of Object.entries(result.metafile.outputs)) {
  console.log(`${file}: ${(output.bytes / 1024 / 1024).toFixed(2)} MB`);
}
