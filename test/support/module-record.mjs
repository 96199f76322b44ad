// Plain JavaScript so that the TypeScript tests and the benchmarks (plain node) share it.

/**
 * A `node --import` argument that appends the URL of every module the process
 * resolves (builtins, files, the bundle's chunks, those imported later by
 * `import()` too) to the file `record`, one a line. It uses synchronous module
 * hooks: Node 22.15 or later.
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
  ].join("\n");
  return `data:text/javascript,${encodeURIComponent(source)}`;
}
