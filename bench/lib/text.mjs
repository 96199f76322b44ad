/**
 * Synthetic source text with the statistics of a node_modules tree: a shared
 * vocabulary with skewed word frequencies, a per-package subset of identifiers,
 * and per-file-type syntax. Real node_modules text deflates about 4-5x at
 * level 6; this generator is tuned to land in the same range.
 */
const SYLLABLES = [
  "ba", "be", "con", "de", "di", "el", "en", "ex", "fa", "for", "get", "ha", "in", "is", "ka", "la", "le", "li", "lo",
  "ma", "me", "mo", "na", "ne", "no", "op", "pa", "pe", "pro", "ra", "re", "ri", "ro", "sa", "se", "set", "si", "so",
  "ta", "te", "ti", "to", "tra", "un", "va", "ve", "vi", "wa", "xo", "za",
];
/** Real code repeats idioms; this share of lines re-uses a recent line. */
const REPEAT_SHARE = 0.3;

const KEYWORDS = ["const", "let", "var", "return", "if", "else", "function", "new", "this", "typeof", "await", "async", "null", "undefined", "true", "false"];
const TYPES = ["string", "number", "boolean", "unknown", "void", "Promise<void>", "Record<string, unknown>", "Buffer", "Error"];
const CSS_PROPS = ["color", "margin", "padding", "display", "border", "font-size", "line-height", "width", "height", "background", "position", "top", "left", "z-index", "opacity", "transition"];
const CSS_VALUES = ["0", "auto", "none", "block", "flex", "inherit", "1px solid #ddd", "100%", "absolute", "relative", "0.5s ease", "#333", "#fff", "1.5", "12px", "16px"];
const TAGS = ["div", "span", "p", "a", "li", "ul", "section", "header", "footer", "button", "label", "input"];

export function makeVocabulary(random, size = 6000) {
  const words = [];
  const seen = new Set();
  while (words.length < size) {
    const count = random.int(1, 4);
    let word = "";
    for (let i = 0; i < count; i++) word += random.pick(SYLLABLES);
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

/** A package draws most identifiers from its own small set, as real modules do. */
export function makePackageWords(random, vocabulary, count = 80) {
  const words = [];
  for (let i = 0; i < count; i++) words.push(vocabulary[random.zipf(vocabulary.length)]);
  return words;
}

function identifierFactory(random, vocabulary, packageWords) {
  const word = () => (random.next() < 0.9 ? packageWords[random.zipf(packageWords.length)] : vocabulary[random.zipf(vocabulary.length)]);
  const camel = () => {
    const first = word();
    if (random.next() < 0.5) return first;
    const second = word();
    return first + second[0].toUpperCase() + second.slice(1);
  };
  const sentence = (n) => {
    const parts = [];
    for (let i = 0; i < n; i++) parts.push(word());
    return parts.join(" ");
  };
  return { word, camel, sentence };
}

function jsStatement(random, id, depth) {
  const r = random.next();
  const name = id.camel();
  if (r < 0.14) return `const ${name} = require("${random.next() < 0.5 ? "./" : ""}${id.word()}");`;
  if (r < 0.28) return `${random.pick(["const", "let"])} ${name} = ${id.camel()}.${id.camel()}(${id.camel()}, ${random.int(0, 64)});`;
  if (r < 0.38) return `if (${id.camel()} ${random.pick(["===", "!==", "&&", "||"])} ${random.pick([id.camel(), "null", "undefined", `"${id.word()}"`])}) {`;
  if (r < 0.48) return `return ${id.camel()}.${id.camel()}(${random.pick(["this", id.camel(), `"${id.sentence(random.int(1, 3))}"`])});`;
  if (r < 0.58) return `// ${id.sentence(random.int(3, 12))}`;
  if (r < 0.66) return `${id.camel()}.${id.camel()} = function ${name}(${id.camel()}, ${id.camel()}) {`;
  if (r < 0.74) return `throw new ${random.pick(["TypeError", "Error", "RangeError"])}("${id.sentence(random.int(3, 8))}");`;
  if (r < 0.82) return `exports.${name} = ${name};`;
  if (r < 0.9) return `${id.camel()}[${random.int(0, 9)}] = ${random.pick(KEYWORDS)} ${id.camel()};`;
  return depth > 0 ? "}" : `module.exports = { ${id.camel()}, ${id.camel()}, ${id.camel()} };`;
}

function jsFile(random, id, bytes, minified) {
  const lines = ['"use strict";'];
  let length = 0;
  let depth = 0;
  while (length < bytes) {
    const line = random.next() < REPEAT_SHARE && lines.length > 8 ? lines[lines.length - random.int(1, 8)].trim() : jsStatement(random, id, depth);
    if (line.endsWith("{")) depth++;
    if (line === "}") depth--;
    const text = minified ? line : "  ".repeat(Math.max(0, depth)) + line;
    lines.push(text);
    length += text.length + 1;
  }
  return lines.join(minified ? "" : "\n") + "\n";
}

function dtsFile(random, id, bytes) {
  const lines = [];
  let length = 0;
  while (length < bytes) {
    const r = random.next();
    let line;
    if (r < 0.4) line = `export declare function ${id.camel()}(${id.camel()}: ${random.pick(TYPES)}, ${id.camel()}?: ${random.pick(TYPES)}): ${random.pick(TYPES)};`;
    else if (r < 0.7) line = `    ${id.camel()}${random.next() < 0.3 ? "?" : ""}: ${random.pick(TYPES)};`;
    else if (r < 0.85) line = `export interface ${id.camel()} {`;
    else line = `/** ${id.sentence(random.int(4, 14))} */`;
    if (random.next() < REPEAT_SHARE && lines.length > 8) line = lines[lines.length - random.int(1, 8)];
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

function cssFile(random, id, bytes) {
  const lines = [];
  let length = 0;
  while (length < bytes) {
    lines.push(`.${id.word()}-${id.word()} {`);
    const count = random.int(2, 7);
    for (let i = 0; i < count; i++) lines.push(`  ${random.pick(CSS_PROPS)}: ${random.pick(CSS_VALUES)};`);
    lines.push("}");
    length += 40 + count * 22;
  }
  return lines.join("\n") + "\n";
}

function htmlFile(random, id, bytes) {
  const lines = ["<!doctype html>", "<html>", "<body>"];
  let length = 0;
  while (length < bytes) {
    const tag = random.pick(TAGS);
    const line = random.next() < REPEAT_SHARE && lines.length > 8 ? lines[lines.length - random.int(1, 8)] : `<${tag} class="${id.word()} ${id.word()}">${id.sentence(random.int(2, 12))}</${tag}>`;
    lines.push(line);
    length += line.length + 1;
  }
  lines.push("</body>", "</html>");
  return lines.join("\n") + "\n";
}

function jsonFile(random, id, bytes) {
  const lines = ["{"];
  let length = 0;
  while (length < bytes) {
    const value = random.next() < 0.5 ? `"${id.sentence(random.int(1, 4))}"` : String(random.int(0, 100000));
    const line = random.next() < REPEAT_SHARE && lines.length > 8 ? lines[lines.length - random.int(1, 8)] : `  "${id.camel()}": ${value},`;
    lines.push(line);
    length += line.length + 1;
  }
  lines.push(`  "version": "${random.int(0, 9)}.${random.int(0, 30)}.${random.int(0, 30)}"`, "}");
  return lines.join("\n") + "\n";
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Source maps: VLQ mappings (the least compressible text in node_modules) plus the embedded sources. */
function mapFile(random, id, bytes) {
  const names = [];
  for (let i = 0; i < 30; i++) names.push(`"${id.camel()}"`);
  const sources = JSON.stringify(jsFile(random, id, Math.round(bytes * 0.6), false));
  let mappings = "";
  while (mappings.length < bytes * 0.4) {
    const segment = random.int(2, 6);
    for (let i = 0; i < segment; i++) mappings += BASE64[random.zipf(24)];
    mappings += random.next() < 0.15 ? ";" : ",";
  }
  return `{"version":3,"file":"${id.word()}.js","sources":["../src/${id.word()}.ts"],"names":[${names.join(",")}],"mappings":"${mappings}","sourcesContent":[${sources}]}\n`;
}

function markdownFile(random, id, bytes) {
  const lines = [`# ${id.word()}`, ""];
  let length = 0;
  while (length < bytes) {
    const r = random.next();
    const line = r < 0.15 ? `## ${id.sentence(random.int(1, 4))}` : r < 0.3 ? `- ${id.sentence(random.int(3, 10))}` : id.sentence(random.int(8, 30)) + ".";
    lines.push(line, "");
    length += line.length + 2;
  }
  return lines.join("\n");
}

export const TEXT_KINDS = {
  ".js": (random, id, bytes) => jsFile(random, id, bytes, false),
  ".min.js": (random, id, bytes) => jsFile(random, id, bytes, true),
  ".d.ts": dtsFile,
  ".css": cssFile,
  ".html": htmlFile,
  ".json": jsonFile,
  ".js.map": mapFile,
  ".md": markdownFile,
};

export function textFile(random, vocabulary, packageWords, extension, bytes) {
  const id = identifierFactory(random, vocabulary, packageWords);
  return TEXT_KINDS[extension](random, id, bytes);
}
