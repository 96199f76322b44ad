// Bundles the `app-backup` CLI into dist/cli/app-backup.mjs, with what only some
// runs need split into chunks beside it that load when first used: each
// command's implementation (cli/actions/*), the Azure SDK, @azure/identity and
// each database driver. A run loads the program's declaration (commander, the
// help) and the one command it runs, with the parts of core that command uses:
// start-up is most of the time of a short command (`show latest`, `list` of a
// small app), and `--version` loads no command at all.
//
// Usage: node scripts/build-cli.mjs [outdir] [--metafile FILE]   (default: dist/cli)
// --metafile writes esbuild's metafile: which inputs went into which chunk and
// what each chunk imports (open it in https://esbuild.github.io/analyze/).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { directCoreImports } from "./direct-core-imports.mjs";
import { nodeBundleOptions } from "./node-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({ options: { metafile: { type: "string" } }, allowPositionals: true });
const outdir = path.resolve(positionals[0] ?? path.join(root, "dist/cli"));

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

const result = await build({
  absWorkingDir: root,
  entryPoints: { "app-backup": "cli/bin.ts" },
  outdir,
  ...nodeBundleOptions("node20"),
  // Unlike the Action's, the CLI's bundle sits in a package: the chunks ship beside it.
  splitting: true,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  // ssh2 is loaded from the package's node_modules, where its compiled crypto binding is:
  // bundled, SFTP would encrypt in JavaScript, several times slower.
  external: [...nodeBundleOptions("node20").external, "ssh2"],
  plugins: [...nodeBundleOptions("node20").plugins, directCoreImports(root), childProcessWhenSpawned],
  metafile: values.metafile !== undefined,
});
if (values.metafile !== undefined) writeFileSync(path.resolve(values.metafile), JSON.stringify(result.metafile));
