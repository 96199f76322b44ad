import { substitutionIn, type Substitute } from "./env-substitution.js";

/** What a configuration is resolved against: a file's folder and environment, or a front end's. */
export interface ConfigContext {
  /** Relative paths are taken from here. */
  baseDir: string;
  /** Where `${env:VAR}` references are resolved from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The configuration's name in errors: a file path, "the inputs of the app-backup Backup". */
  source?: string;
  /** Where the user sets the variables, for hints; default "the environment that runs app-backup". */
  envSetIn?: string;
}

/** " in SOURCE" for messages, or "" when the configuration has no name. */
export function whereOf(context: ConfigContext): string {
  return context.source ? ` in ${context.source}` : "";
}

export function substitutionFor(context: ConfigContext): Substitute {
  return substitutionIn({
    env: context.env ?? process.env,
    where: whereOf(context),
    envSetIn: context.envSetIn ?? "the environment that runs app-backup",
  });
}
