import { invalidConfiguration } from "./issues.js";

/**
 * `${env:VAR}` references in configuration values. `$${env:VAR}` is the literal
 * text `${env:VAR}`, for a value that must hold it (a password, say).
 */
const reference = /\$(\$\{env:[A-Za-z_][A-Za-z0-9_]*\})|\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Where `${env:VAR}` references are resolved from, and how errors name the configuration and that environment. */
export interface SubstitutionContext {
  env: NodeJS.ProcessEnv;
  /** " in /path/app-backup.yml", or "" */
  where: string;
  /** Where a user sets the variables, for hints: "the environment that runs app-backup", "the step's env: block". */
  envSetIn: string;
}

/** Replaces references in the value at a configuration key (`backup.storage.path`, named in errors). */
export type Substitute = (value: string, key: string) => string;

export function substitutionIn({ env, where, envSetIn }: SubstitutionContext): Substitute {
  return (value, key) =>
    value.replace(reference, (_match, escaped: string | undefined, name: string | undefined) => {
      if (escaped !== undefined) return escaped;
      const resolved = env[name!];
      if (resolved === undefined) {
        throw invalidConfiguration(where, [{ path: key, message: `refers to the environment variable ${name}, which is not set.` }], `Set ${name} in ${envSetIn}.`);
      }
      // An empty path, storage or connection string is a missing secret: an unset GitHub secret expands to "",
      // and `home: ${env:APP_HOME}` would then be the configuration's own folder. Settings may be empty.
      if (!key.startsWith("settings.") && resolved.trim() === "") {
        throw invalidConfiguration(
          where,
          [{ path: key, message: `refers to the environment variable ${name}, which is empty.` }],
          `Set ${name} to a value in ${envSetIn} (a secret that does not exist expands to an empty value).`,
        );
      }
      return resolved;
    });
}
