import { AppBackupError } from "../errors.js";

/**
 * `${env:VAR}` references in configuration values. `$${env:VAR}` is the literal
 * text `${env:VAR}`, for a value that must hold it (a password, say).
 */
const reference = /\$(\$\{env:[A-Za-z_][A-Za-z0-9_]*\})|\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface Substitution {
  /** The key as written in the configuration (`backup.storage.path`), for errors. */
  key: string;
  /**
   * Whether an empty (or whitespace-only) value is an error. It is for paths, storage and
   * connection strings: an unset GitHub secret expands to "", and `home: ${env:APP_HOME}`
   * would then be the configuration's own folder.
   */
  requireNonEmpty: boolean;
}

/** The value with each reference replaced by its variable's value from `env`. */
export function substituteEnv(value: string, { key, requireNonEmpty }: Substitution, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(reference, (_match, escaped: string | undefined, name: string | undefined) => {
    if (escaped !== undefined) return escaped;
    const resolved = env[name!];
    if (resolved === undefined) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `The configuration${where} is invalid:\n- ${key}: refers to the environment variable ${name}, which is not set.`,
        `Set ${name} in the environment that runs app-backup.`,
      );
    }
    if (requireNonEmpty && resolved.trim() === "") {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `The configuration${where} is invalid:\n- ${key}: refers to the environment variable ${name}, which is empty.`,
        `Set ${name} to a value in the environment that runs app-backup (a secret that does not exist expands to an empty value).`,
      );
    }
    return resolved;
  });
}
