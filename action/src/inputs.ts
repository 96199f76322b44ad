import { AppBackupError } from "../../core/index.js";

/** The operations the Action runs; each is the CLI command of the same name. */
export const operations = ["backup", "verify", "restore", "list", "configure", "run-scheduled", "prune", "delete"] as const;
export type Operation = (typeof operations)[number];

/** One database to dump: a `databases` input line `NAME:DATABASE_TYPE=CONNECTION_STRING`. */
export interface DatabaseInput {
  connectionStringName: string;
  databaseType: string;
  /** Secret: may hold a password. */
  connectionString: string;
}

/** The app described by inputs, for workflows without an app-backup.yml. */
export interface InlineAppInputs {
  appName?: string;
  /** A folder, `sftp://user@host/path`, or an App Service app's SCM URL. */
  home?: string;
  /** How an `sftp://` home logs in. */
  sftp?: { privateKey?: string; privateKeyFile?: string; knownHosts?: string; password?: string };
  /** An App Service home's publishing credentials (else Entra ID, e.g. after azure/login). */
  publishing?: { user?: string; password?: string };
  storage?: string;
  container?: string;
  databases: DatabaseInput[];
  settingsFile?: string;
  filter?: string[];
  maxSize?: string;
  databaseMaxSize?: string;
}

/** An app registration to sign in as through GitHub's OIDC token (workload identity federation). */
export interface AzureSignInInputs {
  clientId: string;
  tenantId: string;
}

export interface ActionInputs {
  operation: Operation;
  config?: string;
  app: InlineAppInputs;
  /** Set when azure-client-id and azure-tenant-id are: Entra ID sign-in without `azure/login`. */
  azureSignIn?: AzureSignInInputs;
  backupName?: string;
  failOnPartial: boolean;
  readData: boolean;
  targetConfig?: string;
  ignoreDatabases: boolean;
  restoreSettings: boolean;
  adjustConnectionStrings: boolean;
  dryRun: boolean;
  /** list: how many of the newest backups the `backups` output and the job summary show. */
  listLimit: number;
}

/** How the Action logs in to a home on another machine (SFTP, App Service). */
const remoteHomeInputNames = ["ssh-key", "ssh-key-file", "ssh-known-hosts", "ssh-password", "publishing-user", "publishing-password"] as const;

/** Every input the Action reads; action.yml documents each one (a test keeps the two equal). */
export const inputNames = [
  "operation",
  "config",
  "app-name",
  "home",
  ...remoteHomeInputNames,
  "storage",
  "container",
  "databases",
  "settings-file",
  "filter",
  "max-size",
  "database-max-size",
  "backup-name",
  "fail-on-partial",
  "read-data",
  "target-config",
  "ignore-databases",
  "restore-settings",
  "adjust-connection-strings",
  "dry-run",
  "azure-client-id",
  "azure-tenant-id",
  "list-limit",
] as const;
export type InputName = (typeof inputNames)[number];

/** Reads one input as the runner passes it (`INPUT_<NAME>`), trimmed; "" when not set. */
export type InputReader = (name: InputName) => string;

/** The inline inputs that describe an app; they and `config` exclude each other. */
export const inlineAppInputNames: readonly InputName[] = [
  "app-name",
  "home",
  ...remoteHomeInputNames,
  "storage",
  "container",
  "databases",
  "settings-file",
  "filter",
  "max-size",
  "database-max-size",
];

/** Inputs that only mean something to some operations; setting one elsewhere is a mistake worth reporting. */
const operationsOfInput: Partial<Record<InputName, readonly Operation[]>> = {
  "backup-name": ["backup", "verify", "restore", "delete"],
  "read-data": ["verify"],
  "target-config": ["restore"],
  "ignore-databases": ["restore"],
  "restore-settings": ["restore"],
  "adjust-connection-strings": ["restore"],
  "dry-run": ["restore", "run-scheduled", "prune"],
  "list-limit": ["list"],
};

export function readInputs(read: InputReader): ActionInputs {
  const text = (name: InputName) => read(name).trim() || undefined;
  const operation = (text("operation") ?? "backup").toLowerCase();
  if (!(operations as readonly string[]).includes(operation)) {
    throw usage(`Input operation is "${operation}", which is not an operation of app-backup.`, `Use one of: ${operations.join(", ")}.`);
  }
  const config = text("config");
  if (config) {
    const conflicting = inlineAppInputNames.filter((name) => text(name) !== undefined);
    if (conflicting.length > 0) {
      throw usage(
        `Inputs ${conflicting.join(", ")} cannot be combined with config: the app is described either by its app-backup.yml or by inputs.`,
        "Remove those inputs and put the values in the configuration file (reference secrets there as ${env:VAR}), or remove config.",
      );
    }
  }
  for (const [name, applies] of Object.entries(operationsOfInput) as Array<[InputName, readonly Operation[]]>) {
    if (text(name) !== undefined && !applies.includes(operation as Operation)) {
      throw usage(`Input ${name} applies to ${applies.join(" and ")}, not to ${operation}.`, `Remove ${name} from this step, or set operation to ${applies[0]}.`);
    }
  }
  const filter = lines(read("filter"));
  return {
    operation: operation as Operation,
    config,
    app: {
      appName: text("app-name"),
      home: text("home"),
      sftp: definedOnly({ privateKey: keyText(read("ssh-key")), privateKeyFile: text("ssh-key-file"), knownHosts: text("ssh-known-hosts"), password: text("ssh-password") }),
      publishing: definedOnly({ user: text("publishing-user"), password: text("publishing-password") }),
      storage: text("storage"),
      container: text("container"),
      databases: parseDatabases(read("databases")),
      settingsFile: text("settings-file"),
      filter: filter.length > 0 ? filter : undefined,
      maxSize: text("max-size"),
      databaseMaxSize: text("database-max-size"),
    },
    azureSignIn: azureSignInOf(text("azure-client-id"), text("azure-tenant-id")),
    backupName: text("backup-name"),
    failOnPartial: parseBoolean("fail-on-partial", read("fail-on-partial"), true),
    readData: parseBoolean("read-data", read("read-data"), false),
    targetConfig: text("target-config"),
    ignoreDatabases: parseBoolean("ignore-databases", read("ignore-databases"), false),
    restoreSettings: parseBoolean("restore-settings", read("restore-settings"), false),
    adjustConnectionStrings: parseBoolean("adjust-connection-strings", read("adjust-connection-strings"), false),
    dryRun: parseBoolean("dry-run", read("dry-run"), false),
    listLimit: parseListLimit(read("list-limit")),
  };
}

/** The fields that are set, or undefined when none is. */
function definedOnly<T extends Record<string, string | undefined>>(fields: T): Partial<T> | undefined {
  const set = Object.entries(fields).filter(([, value]) => value !== undefined);
  return set.length ? (Object.fromEntries(set) as Partial<T>) : undefined;
}

/** A private key from a secret: its lines as written (a key's last line break matters to some parsers), blank when unset. */
function keyText(value: string): string | undefined {
  return value.trim() ? `${value.trim()}\n` : undefined;
}

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const domainName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

/** Both sign-in inputs or neither: one alone is a half-written step, not a request for `azure/login`. */
function azureSignInOf(clientId: string | undefined, tenantId: string | undefined): AzureSignInInputs | undefined {
  if (!clientId && !tenantId) return undefined;
  const setUp = "Set azure-client-id and azure-tenant-id to the app registration's Application (client) ID and Directory (tenant) ID, e.g. ${{ vars.AZURE_CLIENT_ID }}, and give the job `permissions: id-token: write`.";
  if (!clientId || !tenantId) {
    throw usage(`Input ${clientId ? "azure-tenant-id" : "azure-client-id"} is not set, but input ${clientId ? "azure-client-id" : "azure-tenant-id"} is: the OIDC sign-in to Entra ID needs both.`, setUp);
  }
  if (!guid.test(clientId)) throw usage(`Input azure-client-id is "${clientId}", which is not an application (client) ID: it is a GUID.`, setUp);
  if (!guid.test(tenantId) && !domainName.test(tenantId)) {
    throw usage(`Input azure-tenant-id is "${tenantId}", which is neither a directory (tenant) ID (a GUID) nor a domain name.`, setUp);
  }
  return { clientId, tenantId };
}

/** Non-empty lines, trimmed. */
export function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * `NAME:DATABASE_TYPE=CONNECTION_STRING` per line, `#` lines ignored. A line that
 * does not parse is reported by its number only: it may hold a password.
 */
export function parseDatabases(value: string): DatabaseInput[] {
  const databases: DatabaseInput[] = [];
  const seen = new Set<string>();
  for (const [index, line] of value.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const match = trimmed.match(/^([^:=\s]+)\s*:\s*([^=\s]+)\s*=\s*(.*)$/);
    if (!match) {
      throw usage(
        `Line ${index + 1} of input databases is not NAME:DATABASE_TYPE=CONNECTION_STRING (the line is not shown, it may hold a password).`,
        "Write one database per line, e.g. MainDb:PostgreSql=${env:MAIN_DB} with MAIN_DB set from a secret in the step's env.",
      );
    }
    const [, name, type, connectionString] = match as unknown as [string, string, string, string];
    if (!connectionString.trim()) {
      throw usage(
        `Database ${name} in input databases has no connection string after "=".`,
        "Write MainDb:PostgreSql=${env:MAIN_DB} and set MAIN_DB from a secret in the step's env.",
      );
    }
    if (seen.has(name)) throw usage(`Database ${name} is listed twice in input databases.`, "List each connection string name once.");
    seen.add(name);
    databases.push({ connectionStringName: name, databaseType: type, connectionString: connectionString.trim() });
  }
  return databases;
}

/** The default and the largest `list-limit`: a thousand listings stay well within GitHub's 1 MB of outputs. */
export const defaultListLimit = 100;
export const maxListLimit = 1000;

function parseListLimit(value: string): number {
  const trimmed = value.trim();
  if (!trimmed) return defaultListLimit;
  const limit = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(limit >= 1 && limit <= maxListLimit)) {
    throw usage(`Input list-limit is "${trimmed}", which is not a whole number from 1 to ${maxListLimit}.`, `Set list-limit to how many of the newest backups to show (default ${defaultListLimit}).`);
  }
  return limit;
}

/** YAML 1.2 core-schema booleans, as `core.getBooleanInput` accepts them, with a clearer message. */
export function parseBoolean(name: string, value: string, fallback: boolean): boolean {
  const trimmed = value.trim();
  if (!trimmed) return fallback;
  if (["true", "True", "TRUE"].includes(trimmed)) return true;
  if (["false", "False", "FALSE"].includes(trimmed)) return false;
  throw usage(`Input ${name} is "${trimmed}", which is not a boolean.`, `Set ${name} to true or false.`);
}

function usage(message: string, hint: string): AppBackupError {
  return new AppBackupError("USAGE", message, hint);
}
