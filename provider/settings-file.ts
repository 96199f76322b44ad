import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml, YAMLError } from "yaml";
import { describeYamlSyntaxError } from "../core/config/yaml-syntax-error.js";

/**
 * Reads app settings from a JSON or YAML file: a mapping of name to value, or
 * the list `az webapp config appsettings list` prints (`[{ name, value, slotSetting }]`).
 * A relative path is taken from the folder the Pulumi program runs in.
 */
export function readSettingsFile(file: string): Record<string, string> {
  const absolute = path.resolve(file);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(absolute, "utf8"));
  } catch (error) {
    // A YAML error quotes the offending line, which may hold a secret: only what and where are kept.
    const reason =
      error instanceof YAMLError
        ? describeYamlSyntaxError(error)
        : (error as NodeJS.ErrnoException).code === "ENOENT"
          ? "it does not exist"
          : (error as Error).message;
    throw new Error(`Cannot read the settingsFile ${absolute}: ${reason}.`);
  }
  const invalid = (why: string) =>
    new Error(
      `The settingsFile ${absolute} is not a settings file: ${why}. ` +
        'Write a mapping of setting names to values ({"WEBSITE_TIME_ZONE": "UTC"}) or the list `az webapp config appsettings list` prints.',
    );
  const settings: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const [index, item] of raw.entries()) {
      const entry = item as { name?: unknown; value?: unknown } | null;
      if (typeof entry?.name !== "string" || !isScalar(entry.value)) throw invalid(`item ${index} has no string "name" and scalar "value"`);
      settings[entry.name] = String(entry.value);
    }
    return settings;
  }
  if (raw === null || typeof raw !== "object") throw invalid("it holds neither a mapping nor a list");
  for (const [name, value] of Object.entries(raw)) {
    if (!isScalar(value)) throw invalid(`the value of ${name} is not a string, number or boolean`);
    settings[name] = String(value);
  }
  return settings;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}
