// The esbuild options shared by the bundles that run on Node with no node_modules (the GitHub Action,
// the Pulumi provider plugin): one self-contained ES module per entry, every dependency inside.

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

/**
 * ssh2 and cpu-features load optional compiled bindings (`.node` files), which no
 * bundle can hold: each `require` of one becomes a module that throws, as a
 * missing binding does, and ssh2 then encrypts in JavaScript.
 */
const compiledBindingsLeftOut = {
  name: "compiled-bindings-left-out",
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, namespace: "compiled-binding" }));
    build.onLoad({ filter: /.*/, namespace: "compiled-binding" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is a compiled binding, which this bundle does not hold`)});`,
      loader: "js",
    }));
  },
};

/** esbuild options of a self-contained ES module bundle for Node `target` (e.g. "node24"). */
export function nodeBundleOptions(target) {
  return {
    bundle: true,
    platform: "node",
    target,
    format: "esm",
    // Database drivers and @azure/identity are imported dynamically; without
    // code splitting esbuild inlines them, keeping one file per entry.
    splitting: false,
    banner: { js: banner },
    define: { __filename: "__appBackupFilename", __dirname: "__appBackupDirname" },
    // pg's optional native binding, loaded only with NODE_PG_FORCE_NATIVE set.
    external: ["pg-native"],
    plugins: [compiledBindingsLeftOut],
    // Paths as the checkout names them: a node_modules linked from elsewhere (a git worktree's)
    // must not change the bundle that scripts/check-action-bundle.sh compares.
    preserveSymlinks: true,
    legalComments: "eof",
    charset: "utf8",
    sourcemap: false,
    logLevel: "warning",
  };
}
