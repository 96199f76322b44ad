import { readFile, stat } from "node:fs/promises";
import { safeParse } from "valibot";
import { issuesInOneLine } from "../config/issues.js";
import { configSchema } from "../config/schema.js";
import { yamlLibrary } from "../config/yaml-library.js";
import { AppBackupError } from "../errors.js";
import type { AppMeta } from "../format/meta.js";
import { publishReplacing } from "../fs/publish.js";

export interface ConfigUpdate {
  configPath: string;
  settings: string[];
  connectionStrings: string[];
  warnings: string[];
  /** The new text of the file; undefined when nothing changes. */
  text?: string;
  /** Writes the update somewhere other than a file (an App Service app's settings through ARM). */
  apply?: () => Promise<void>;
}

/**
 * The target's configuration file with the backup's app settings and/or
 * connection strings written in, as Azure's restore does with the site config
 * and `adjustConnectionStrings`. The file keeps its comments and layout (only
 * the changed keys are touched). Prepared before the restore changes anything,
 * so an update that would make the file invalid stops it early; written by
 * `commitConfigUpdate`. Values are written, never printed; only names are reported.
 */
export async function prepareConfigUpdate(
  configPath: string,
  meta: AppMeta,
  parts: { settings: boolean; connectionStrings: boolean },
): Promise<ConfigUpdate> {
  const update: ConfigUpdate = { configPath, settings: [], connectionStrings: [], warnings: [] };
  const text = await readFile(configPath, "utf8");
  const { isMap, parseDocument } = await yamlLibrary();
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new AppBackupError("CONFIG_INVALID", `Cannot update ${configPath}: ${doc.errors[0]!.message}`);
  }
  if (parts.settings) {
    for (const [name, value] of Object.entries(meta.settings)) {
      doc.setIn(["settings", name], value);
      update.settings.push(name);
    }
  }
  if (parts.connectionStrings) {
    for (const [name, cs] of Object.entries(meta.connectionStrings)) {
      if (cs.value.includes("***")) {
        update.warnings.push(
          `Connection string ${name} was stored in the backup with its password masked (***), so it was not written; set it in ${configPath} by hand.`,
        );
        continue;
      }
      const existing = doc.getIn(["connectionStrings", name]);
      if (isMap(existing)) {
        existing.set("type", cs.type);
        existing.set("value", cs.value);
      } else {
        doc.setIn(["connectionStrings", name], doc.createNode({ type: cs.type, value: cs.value }));
      }
      update.connectionStrings.push(name);
    }
  }
  if (update.settings.length === 0 && update.connectionStrings.length === 0) return update;

  const checked = safeParse(configSchema, doc.toJS());
  if (!checked.success) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The backup's ${parts.connectionStrings ? "connection strings" : "settings"} would make ${configPath} invalid (${issuesInOneLine(checked.issues.slice(0, 1))}); it was not changed.`,
    );
  }
  update.text = doc.toString();
  for (const cs of update.connectionStrings.map((n) => meta.connectionStrings[n]!)) {
    if (cs.value.includes("${env:")) {
      update.warnings.push("Restored connection strings refer to environment variables (${env:...}); set them where the target app runs.");
      break;
    }
  }
  return update;
}

/** Replaces the configuration file with the prepared text in one step, keeping its permissions. */
export async function commitConfigUpdate(update: ConfigUpdate): Promise<void> {
  if (update.apply) return update.apply();
  if (update.text === undefined) return;
  const mode = (await stat(update.configPath)).mode & 0o777;
  await publishReplacing(update.configPath, update.text, { mode, flush: true });
}
