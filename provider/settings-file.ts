import path from "node:path";
import { AppBackupError, isAppBackupError, readSettingsFile } from "../core/index.js";

/**
 * The settings of a resource's settingsFile, read as the Action reads its
 * settings-file. A relative path is taken from the folder the Pulumi program runs in.
 */
export async function settingsOf(file: string): Promise<Record<string, string>> {
  try {
    return await readSettingsFile(path.resolve(file));
  } catch (error) {
    if (!isAppBackupError(error)) throw error;
    const hint = error.code === "CONFIG_UNREADABLE" ? "Set settingsFile to a YAML or JSON file; a relative path is taken from the Pulumi project folder." : error.hint;
    // Pulumi shows an error's message alone: the hint goes with it.
    throw new Error(new AppBackupError(error.code, error.message, hint).describe(), { cause: error });
  }
}
