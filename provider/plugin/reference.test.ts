import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { toolVersion } from "../../core/index.js";
import { schemaReference, withReference } from "./reference.js";
import { packageSchema } from "./schema.js";

const readmePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../README.md");

describe("the README's Pulumi reference", () => {
  it("is the one generated from the package schema (npm run docs:pulumi)", async () => {
    const readme = await readFile(readmePath, "utf8");
    expect(readme).toBe(withReference(readme, schemaReference(packageSchema(toolVersion) as never)));
  });

  it("lists each input with its type, default and secrecy", () => {
    const reference = schemaReference(packageSchema(toolVersion) as never);
    expect(reference).toContain("#### `app-backup:index:BackupConfiguration`");
    expect(reference).toMatch(/\| `enabled` \| `boolean` \| `true` \| False keeps the configuration/);
    expect(reference).toMatch(/\| `storage` \(secret\) \| `string \\\| ConnectionStringStorage \\\| AccountUrlStorage \\\| FolderStorage` \|/);
    expect(reference).toMatch(/\| `name` \(required\) \| `string` \|/);
    expect(reference).toMatch(/\| `frequencyInterval` \| `integer` \| `7` \|/);
  });
});
