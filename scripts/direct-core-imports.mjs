// An esbuild plugin for the CLI's split bundle: a CLI module's imports from
// core/index.ts are bundled as imports from the modules that define those names.
//
// The front ends import only core's public face, core/index.ts. esbuild splits
// a bundle by which files each entry (and each lazily imported command) can
// reach, and through core/index.ts every command reaches all of core: `--version`
// would load what a restore needs, and `backup` what `list` needs. Bundled with
// each name taken from where it is defined, a command's chunk holds only what
// it uses, as if core/index.ts had been inlined into it. The source and the
// built dist/ keep importing core/index.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** The plugin for the modules under `cli/` of the repository at `root`. */
export function directCoreImports(root) {
  const barrel = path.join(root, "core", "index.ts");
  const cliDir = path.join(root, "cli") + path.sep;
  let definitions;
  return {
    name: "direct-core-imports",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(cliDir)) return undefined;
        definitions ??= barrelDefinitions(barrel);
        return { contents: rewrite(args.path, readFileSync(args.path, "utf8"), barrel, definitions), loader: "ts" };
      });
    },
  };
}

/**
 * Each name core/index.ts exports: a value with the module that defines it and
 * its name there, a type with nothing (it is gone from the bundle).
 */
function barrelDefinitions(barrel) {
  const { names, stars } = reExportsOf(barrel);
  if (stars.length > 0) throw new Error(`${barrel}: \`export * from "${stars[0]}"\` cannot be resolved name by name; export the names.`);
  return new Map([...names].map(([exported, from]) => [exported, from.isType ? null : definitionOf(from.module, from.name)]));
}

/**
 * Where `name`, as `module` exports it, is defined: a module that re-exports
 * the name from another (a package's own barrel, such as catalog/catalog.ts)
 * is passed through, or importing one name would load all that barrel reaches.
 */
function definitionOf(module, name) {
  const from = reExportsOf(resolveTs(module)).names.get(name);
  return from ? definitionOf(from.module, from.name) : { module, name };
}

const reExports = new Map();

/**
 * What `file` re-exports from other modules, read once: each name with the
 * module and name it comes from, and the specifiers of its `export *` lines.
 */
function reExportsOf(file) {
  let found = reExports.get(file);
  if (found) return found;
  found = { names: new Map(), stars: [] };
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier) continue;
    if (!statement.exportClause || !ts.isNamedExports(statement.exportClause)) {
      found.stars.push(statement.moduleSpecifier.text);
      continue;
    }
    const module = path.resolve(path.dirname(file), statement.moduleSpecifier.text);
    for (const element of statement.exportClause.elements) {
      found.names.set(element.name.text, { module, name: (element.propertyName ?? element.name).text, isType: statement.isTypeOnly || element.isTypeOnly });
    }
  }
  reExports.set(file, found);
  return found;
}

/** `file`'s source with each import or re-export from the barrel replaced by the same names from their defining modules. */
function rewrite(file, text, barrel, definitions) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
  const replacements = [];
  for (const statement of source.statements) {
    const specifier = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier;
    if (!specifier || resolveTs(path.resolve(path.dirname(file), specifier.text)) !== barrel) continue;
    const isExport = ts.isExportDeclaration(statement);
    const clause = isExport ? statement : statement.importClause;
    const named = isExport ? statement.exportClause : clause?.namedBindings;
    let elements = [];
    if (!clause?.isTypeOnly) {
      if (!named || !(ts.isNamedImports(named) || ts.isNamedExports(named)) || (!isExport && clause.name)) {
        throw new Error(`${file}: import names from core/index.ts one by one (\`import { name } from ...\`), not as a namespace or default.`);
      }
      elements = named.elements.filter((element) => !element.isTypeOnly);
    }
    const byModule = new Map();
    for (const element of elements) {
      const name = (element.propertyName ?? element.name).text;
      const definition = definitions.get(name);
      if (definition === undefined) throw new Error(`${file}: core/index.ts exports nothing named ${name}.`);
      if (definition === null) continue;
      const local = element.name.text;
      const names = byModule.get(definition.module) ?? [];
      names.push(definition.name === local ? local : `${definition.name} as ${local}`);
      byModule.set(definition.module, names);
    }
    const lines = [...byModule].map(([module, names]) => {
      const relative = path.relative(path.dirname(file), module).split(path.sep).join("/");
      return `${isExport ? "export" : "import"} { ${names.join(", ")} } from "${relative.startsWith(".") ? relative : `./${relative}`}";`;
    });
    replacements.push({ start: statement.getStart(source), end: statement.getEnd(), text: lines.join("\n") });
  }
  let result = text;
  for (const { start, end, text: replacement } of replacements.reverse()) result = result.slice(0, start) + replacement + result.slice(end);
  return result;
}

/** A module path as written in an import (`./x.js`) to the TypeScript file it names. */
const resolveTs = (modulePath) => modulePath.replace(/\.js$/, ".ts");
