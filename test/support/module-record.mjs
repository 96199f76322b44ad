// Plain JavaScript so that the TypeScript tests and the benchmarks (plain node) share it.

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
