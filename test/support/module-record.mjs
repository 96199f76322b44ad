// Plain JavaScript so that the TypeScript tests and the benchmarks (plain node) share it.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * A `node --import` argument that appends the URL of every module the process
 * resolves (builtins, files, the bundle's chunks, those imported later by
 * `import()` too) to the file `record`, one a line, then at exit a
 * `builtin:NAME` line for each of Node's modules the process loaded, however
 * it loaded them. It uses synchronous module hooks: Node 22.15 or later.
 */
export function moduleRecordingHook(record) {
  const source = [
    'import { registerHooks } from "node:module";',
    'import { appendFileSync } from "node:fs";',
    "registerHooks({ resolve(specifier, context, next) {",
    "  const resolved = next(specifier, context);",
    `  appendFileSync(${JSON.stringify(record)}, resolved.url + "\\n");`,
    "  return resolved;",
    "} });",
    "process.on(\"exit\", () => {",
    "  const builtins = process.moduleLoadList.filter((m) => m.startsWith(\"NativeModule \")).map((m) => `builtin:${m.slice(13)}\\n`);",
    `  appendFileSync(${JSON.stringify(record)}, builtins.join(""));`,
    "});",
  ].join("\n");
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/**
 * The modules a run of the CLI evaluated, by source path as esbuild names them
 * (`core/catalog/listing.ts`, `node_modules/commander/index.js`), given the
 * URLs the process loaded (see moduleRecordingHook) and V8's coverage of the
 * run (`NODE_V8_COVERAGE=coverageDir`). Which modules each file of the bundle
 * holds is in its bundle-inputs.json (scripts/build-cli.mjs). The program
 * (dist/cli/program.cjs) is one script: esbuild runs the modules only some
 * runs need when first imported, each from a function named by its path, and
 * V8's coverage says which of those were called; its other modules run at
 * load. Of every other file of the bundle the process loaded (the binary, a
 * vendor bundle), every module counts.
 */
export async function modulesRun(loadedUrls, coverageDir, bundleDir) {
  const programFile = path.join(bundleDir, "program.cjs");
  const programUrl = pathToFileURL(programFile).href;
  const inputs = JSON.parse(await readFile(path.join(bundleDir, "bundle-inputs.json"), "utf8"));
  // What the plugins make (a vendor package's stand-in, `<stdin>`) is not a source module.
  const modulesOf = (file) => (inputs[file] ?? []).filter((input) => /^[^:]+\.(?:[cm]?js|ts)$/.test(input));

  const called = new Set();
  let programRan = false;
  for (const name of await readdir(coverageDir).catch(() => [])) {
    const coverage = JSON.parse(await readFile(path.join(coverageDir, name), "utf8"));
    for (const script of coverage.result ?? []) {
      if (script.url !== programUrl) continue;
      programRan = true;
      for (const fn of script.functions) if (fn.ranges[0]?.count > 0) called.add(fn.functionName);
    }
  }
  const modules = [];
  if (programRan) {
    const program = await readFile(programFile, "utf8");
    // esbuild's wrapper of a module run when first imported: a method named by the module's path.
    const wrapped = new Set([...program.matchAll(/"([^"]+)"\(/g)].map((match) => match[1]));
    modules.push(...modulesOf("program.cjs").filter((module) => !wrapped.has(module) || called.has(module)));
  }
  const bundleUrl = pathToFileURL(bundleDir).href + "/";
  for (const url of new Set(loadedUrls)) {
    if (!url.startsWith(bundleUrl) || url === programUrl) continue;
    modules.push(...modulesOf(url.slice(bundleUrl.length)));
  }
  return modules;
}
