import { readFile } from "node:fs/promises";
import path from "node:path";
import { AppBackupError } from "../errors.js";
import { unreadableFile } from "./unreadable.js";
import { yamlLibrary } from "./yaml-library.js";
import { describeYamlSyntaxError } from "./yaml-syntax-error.js";

/**
 * App settings for the backup's `meta`, read the same way by every front end:
 * a YAML or JSON mapping of names to values, or the list
 * `az webapp config appsettings list` prints (`[{ name, value, slotSetting }]`).
 * Values are strings, numbers or booleans, kept as text; anything else, `null`
 * included, is an error rather than a setting recorded with a value the app
 * does not have. Items of a list are counted from 1 in errors.
 */
export async function readSettingsFile(file: string): Promise<Record<string, string>> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw unreadableFile("settings file", absolute, error, "Give the path of a YAML or JSON file of app settings.");
  }
  let raw: unknown;
  try {
    const { parse } = await yamlLibrary();
    raw = parse(text);
  } catch (error) {
    // The parser quotes the offending line, which may hold a secret: only what and where are kept.
    throw settingsInvalid(absolute, `it is not valid YAML or JSON: ${describeYamlSyntaxError(error)}`);
  }
  const settings: Record<string, string> = {};
  const add = (name: unknown, value: unknown, where: string) => {
    if (typeof name !== "string" || !name) throw settingsInvalid(absolute, `${where} has no setting name`);
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw settingsInvalid(absolute, `the value of ${name} is not a string, number or boolean`);
    }
    settings[name] = String(value);
  };
  if (Array.isArray(raw)) {
    for (const [index, item] of raw.entries()) {
      if (item === null || typeof item !== "object" || Array.isArray(item)) throw settingsInvalid(absolute, `item ${index + 1} is not {name, value}`);
      const { name, value } = item as { name?: unknown; value?: unknown };
      add(name, value, `item ${index + 1}`);
    }
  } else if (raw !== null && typeof raw === "object") {
    for (const [name, value] of Object.entries(raw)) add(name, value, "an entry");
  } else {
    throw settingsInvalid(absolute, "it is neither a mapping of names to values nor a list of {name, value}");
  }
  return settings;
}

function settingsInvalid(file: string, reason: string): AppBackupError {
  return new AppBackupError(
    "CONFIG_INVALID",
    `The settings file ${file} is invalid: ${reason}.`,
    "Write a mapping (NAME: value), or save the output of `az webapp config appsettings list`.",
  );
}
