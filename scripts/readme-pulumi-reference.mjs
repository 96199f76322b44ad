// Writes the Pulumi resources' reference into README.md (between its pulumi-reference markers), generated
// from the plugin's package schema. provider/plugin/reference.test.ts fails when the README is behind.
//
// Usage: npm run docs:pulumi   (builds dist/ first)
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const load = (file) => import(pathToFileURL(path.join(root, "dist/provider/plugin", file)).href);
const [{ packageSchema }, { schemaReference, withReference }] = await Promise.all([load("schema.js"), load("reference.js")]);
const { version } = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
const readmePath = path.join(root, "README.md");
await writeFile(readmePath, withReference(await readFile(readmePath, "utf8"), schemaReference(packageSchema(version))));
