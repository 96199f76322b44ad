// What every bundle of app-backup for Node shares: one ES module per entry
// that runs without node_modules beside it, its CommonJS dependencies included.
//
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

export const nodeBundleOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  banner: { js: banner },
  define: { __filename: "__appBackupFilename", __dirname: "__appBackupDirname" },
  // pg's optional native binding, loaded only with NODE_PG_FORCE_NATIVE set.
  external: ["pg-native"],
  legalComments: "eof",
  charset: "utf8",
  sourcemap: false,
  metafile: true,
  logLevel: "warning",
};

/** Prints each output file's size, as a build's record. */
export function printOutputs(result) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    console.log(`${file}: ${(output.bytes / 1024 / 1024).toFixed(2)} MB`);
  }
}
