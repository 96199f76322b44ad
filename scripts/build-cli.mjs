// Builds the `app-backup` CLI into dist/cli/:
//
// - app-backup.mjs, the binary: a few lines that run the program with V8's
//   code cache of an earlier run of the same command (cli/code-cache.ts).
// - program.cjs, the program: the commands (commander, cli/) and the core, one
//   CommonJS script. What only one command uses is wrapped by esbuild to run
//   when first imported, so a run evaluates the program's declaration and the
//   one command it runs; a code cache holds the functions a run compiled,
//   which Node's compile cache of ES modules cannot (it keeps a module's code
//   as compiled before it runs).
// - vendor/*.cjs: the libraries that only some runs need, each group one
//   bundle loaded when first used (the Azure SDK, each database driver, the
//   YAML parser, the progress bar): in the program they would be read on
//   every run.
//
// - bundle-inputs.json: the source modules each of these files holds, which the files
//   themselves no longer say (they are written without comments or indentation), for
//   tools that ask which modules a run executed (test/support/module-record.mjs).
//
// Usage: node scripts/build-cli.mjs [outdir] [--metafile FILE]   (default: dist/cli)
// --metafile writes esbuild's metafile of the program: which inputs went into
// it (open it in https://esbuild.github.io/analyze/).
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { directCoreImports } from "./direct-core-imports.mjs";
import { nodeBundleOptions } from "./node-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({ options: { metafile: { type: "string" } }, allowPositionals: true });
const outdir = path.resolve(positionals[0] ?? path.join(root, "dist/cli"));

/** The libraries loaded on first use, by group: one bundle each, so that the packages of a group share their dependencies. */
const vendorGroups = {
  azure: ["@azure/storage-blob", "@azure/identity", "@azure/core-rest-pipeline"],
  postgres: ["pg", "pg-copy-streams"],
  mysql: ["mysql2"],
  sqlserver: ["mssql"],
  yaml: ["yaml"],
  "progress-bar": ["cli-progress"],
};
const groupOf = new Map(Object.entries(vendorGroups).flatMap(([group, packages]) => packages.map((name) => [name, group])));

/**
 * commander requires `node:child_process` when it loads, for subcommands that
 * are separate executables, which this CLI has none of: loading the module (and
 * `net`, `dgram` behind it) costs every run a few milliseconds. Its one use,
 * `spawn`, loads it when called.
 */
const childProcessWhenSpawned = {
  name: "child-process-when-spawned",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: "child_process", namespace: "child-process-when-spawned" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "child-process-when-spawned" }, () => ({
      contents: 'module.exports = { spawn: (...args) => process.getBuiltinModule("node:child_process").spawn(...args) };',
      loader: "js",
    }));
  },
};

/** In the program, a vendor package is its group's bundle, required when the module importing it runs. */
const vendorBundles = {
  name: "vendor-bundles",
  setup(build) {
    build.onResolve({ filter: /^[@a-z]/ }, (args) =>
      groupOf.has(args.path) && args.namespace === "file" ? { path: args.path, namespace: "vendor-package" } : undefined,
    );
    build.onResolve({ filter: /^\.\/vendor\// }, (args) => (args.namespace === "vendor-package" ? { path: args.path, external: true } : undefined));
    build.onLoad({ filter: /.*/, namespace: "vendor-package" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./vendor/${groupOf.get(args.path)}.cjs`)})[${JSON.stringify(args.path)}];`,
      loader: "js",
    }));
  },
};

// A CommonJS bundle has no import.meta: its URL is the bundle's own.
const commonJs = {
  ...nodeBundleOptions("node20"),
  format: "cjs",
  banner: { js: 'const __appBackupImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__appBackupImportMetaUrl" },
  // Non-ASCII characters in strings and names are escaped: the program is read as latin1, with no UTF-8 decoding.
  charset: "ascii",
  // Without comments and indentation the program is 1.0 MB instead of 1.4, which every run reads and
  // V8 scans (measured: 0.93-0.98 of a short command's time); names are kept, so stacks still name functions.
  minifyWhitespace: true,
};

// What an earlier build wrote beside the modules tsc compiles there.
for (const old of ["chunks", "vendor", "program.cjs", "app-backup.mjs", "bundle-inputs.json"]) rmSync(path.join(outdir, old), { recursive: true, force: true });

/** Source modules by output file, relative to outdir. */
const bundleInputs = {};
const recordInputs = (metafile) => {
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    bundleInputs[path.relative(outdir, path.resolve(root, output)).split(path.sep).join("/")] = Object.keys(inputs).sort();
  }
};

const program = await build({
  absWorkingDir: root,
  entryPoints: { program: "cli/start.ts" },
  outdir,
  ...commonJs,
  outExtension: { ".js": ".cjs" },
  // ssh2 is loaded from the package's node_modules, where its compiled crypto binding is:
  // bundled, SFTP would encrypt in JavaScript, several times slower.
  external: [...commonJs.external, "ssh2"],
  plugins: [...commonJs.plugins, directCoreImports(root), childProcessWhenSpawned, vendorBundles],
  metafile: true,
});
if (values.metafile !== undefined) writeFileSync(path.resolve(values.metafile), JSON.stringify(program.metafile));
recordInputs(program.metafile);
markProgram(path.join(outdir, "program.cjs"));

for (const [group, packages] of Object.entries(vendorGroups)) {
  // Each package is required when first asked for: loading the Azure SDK does not evaluate @azure/identity.
  const contents = packages
    .map((name) => `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => require(${JSON.stringify(name)}) });`)
    .join("\n");
  const vendor = await build({
    absWorkingDir: root,
    stdin: { contents, resolveDir: root, sourcefile: `vendor-${group}.js`, loader: "js" },
    outfile: path.join(outdir, "vendor", `${group}.cjs`),
    ...commonJs,
    metafile: true,
  });
  recordInputs(vendor.metafile);
}

const binary = await build({
  absWorkingDir: root,
  entryPoints: { "app-backup": "cli/bin.ts" },
  outdir,
  ...nodeBundleOptions("node20"),
  // The binary holds no CommonJS module, and imports none of Node's modules (see cli/code-cache.ts).
  banner: {},
  define: {},
  outExtension: { ".js": ".mjs" },
  metafile: true,
});
recordInputs(binary.metafile);
writeFileSync(path.join(outdir, "bundle-inputs.json"), `${JSON.stringify(bundleInputs, null, 1)}\n`);

/**
 * Heads the program with its identity, a digest of its text, which names its
 * code caches. esbuild escapes every non-ASCII character of the code; what
 * is left is in comments, which are written as ASCII too.
 */
function markProgram(file) {
  const text = readFileSync(file, "utf8").replace(/[^\x00-\x7f]/g, "?");
  const identity = createHash("sha256").update(text).digest("hex").slice(0, 16);
  writeFileSync(file, `// app-backup program ${identity}\n${text}`);
}
