import * as v from "valibot";
import { homeSchema, sftpSchema } from "./home.js";
import { parseSize } from "./size.js";

/** Azure's connection-string types (ConnectionStringType). */
export const connectionStringTypes = [
  "MySql",
  "SQLServer",
  "SQLAzure",
  "Custom",
  "NotificationHub",
  "ServiceBus",
  "EventHub",
  "ApiHub",
  "DocDb",
  "RedisCache",
  "PostgreSQL",
] as const;

export type ConnectionStringType = (typeof connectionStringTypes)[number];

/** Azure's `databaseType` values for backups. */
export const databaseTypes = ["SqlAzure", "MySql", "LocalMySql", "PostgreSql"] as const;
export type DatabaseType = (typeof databaseTypes)[number];

/** Azure's schedule units. */
export const frequencyUnits = ["Day", "Hour"] as const;
export type FrequencyUnit = (typeof frequencyUnits)[number];

/**
 * The defaults of Azure's backup API for a schedule, applied where a schedule
 * leaves them out, so what is stored says what is in effect.
 */
export const scheduleDefaults = {
  frequencyInterval: 7,
  frequencyUnit: "Day" as FrequencyUnit,
  keepAtLeastOneBackup: true,
  retentionPeriodInDays: 30,
  tiered: false,
} as const;

/** What `backup` holds when a key is left out. */
export const backupDefaults = {
  storage: "file:./backups",
  maxSize: 10 * 1024 ** 3,
  databaseMaxSize: 4 * 1024 ** 3,
  enabled: true,
} as const;

const size = v.pipe(
  v.union([v.string(), v.number()], 'expected a size such as "10GB", "512MB" or a number of bytes'),
  v.check((value) => parseSize(value) !== undefined, 'expected a size such as "10GB", "512MB" or a number of bytes'),
  v.transform((value) => parseSize(value)!),
);

const nonEmpty = v.pipe(v.string("expected text"), v.trim(), v.minLength(1, "must not be empty"));

const storageForms = 'expected a container SAS URL, "file:./folder", {connectionString, container}, {accountUrl, container} or {path}';

export const storageSchema = v.union(
  [
    // A whole value from the environment is checked once resolved.
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(
        /^(?:https?:\/\/|file:|\$\{env:)/i,
        'expected a container SAS URL ("https://account.blob.core.windows.net/container?sv=...&sig=..."), "file:./folder", {connectionString, container}, {accountUrl, container} or {path}',
      ),
    ),
    v.strictObject({ connectionString: nonEmpty, container: nonEmpty }),
    v.strictObject({ accountUrl: v.pipe(v.string(), v.url("expected an account URL such as https://account.blob.core.windows.net")), container: nonEmpty }),
    v.strictObject({ path: nonEmpty }),
  ],
  // A value of no form at all gets this; one of the right form (a string, say) gets the message of what is wrong in it.
  storageForms,
);

const databaseReference = v.strictObject({
  connectionStringName: nonEmpty,
  databaseType: v.picklist(databaseTypes, `expected one of ${databaseTypes.join(", ")}`),
  /** Azure's optional display name of the database. */
  name: v.optional(v.string()),
});

const wholeNumber = (min: number) => v.pipe(v.number("expected a number"), v.integer("expected a whole number"), v.minValue(min, `expected ${min} or more`));

export const scheduleSchema = v.strictObject({
  frequencyInterval: v.optional(wholeNumber(1), scheduleDefaults.frequencyInterval),
  frequencyUnit: v.optional(v.picklist(frequencyUnits, 'expected "Day" or "Hour"'), scheduleDefaults.frequencyUnit),
  startTime: v.optional(v.pipe(v.string(), v.isoTimestamp("expected an ISO-8601 time such as 2026-01-01T02:00:00Z"))),
  retentionPeriodInDays: v.optional(wholeNumber(0), scheduleDefaults.retentionPeriodInDays),
  keepAtLeastOneBackup: v.optional(v.boolean("expected true or false"), scheduleDefaults.keepAtLeastOneBackup),
  /** Beyond Azure: thin older scheduled backups the way Azure's automatic backups are kept. */
  tiered: v.optional(v.boolean("expected true or false"), scheduleDefaults.tiered),
});

const backupSection = v.strictObject({
  storage: v.optional(storageSchema, backupDefaults.storage),
  databases: v.optional(v.array(databaseReference, "expected a list"), () => []),
  maxSize: v.optional(size, backupDefaults.maxSize),
  databaseMaxSize: v.optional(size, backupDefaults.databaseMaxSize),
  /** Filter lines given inline; when present they replace the `_backup.filter` file. */
  filter: v.optional(v.array(v.string("expected text"), "expected a list of lines")),
  enabled: v.optional(v.boolean("expected true or false"), backupDefaults.enabled),
  schedule: v.optional(scheduleSchema),
});

export const configSchema = v.strictObject({
  name: v.pipe(
    v.string("expected text"),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,59}$/, "expected letters, digits and hyphens (at most 60), starting with a letter or digit, as in Azure app names"),
  ),
  home: homeSchema,
  /** How an `sftp://` home logs in. */
  sftp: v.optional(sftpSchema),
  settings: v.optional(
    v.record(v.string(), v.pipe(v.union([v.string(), v.number(), v.boolean()], "expected text, a number or true/false"), v.transform(String))),
    () => ({}),
  ),
  connectionStrings: v.optional(
    v.record(
      v.string(),
      v.strictObject({
        type: v.picklist(connectionStringTypes, `expected one of ${connectionStringTypes.join(", ")}`),
        value: v.string("expected text"),
      }),
    ),
    () => ({}),
  ),
  backup: v.optional(backupSection, () => ({})),
});

/** An app-backup.yml as validated, defaults filled in. */
export type ConfigFile = v.InferOutput<typeof configSchema>;
/** An app-backup.yml as written. */
export type ConfigFileInput = v.InferInput<typeof configSchema>;
/** `backup.storage` as written: a container SAS URL, `file:./folder`, `{ connectionString, container }`, `{ accountUrl, container }` or `{ path }`. */
export type StorageInput = v.InferInput<typeof storageSchema>;
/** `backup.schedule` as written. */
export type ScheduleInput = v.InferInput<typeof scheduleSchema>;
export type ScheduleSpec = v.InferOutput<typeof scheduleSchema>;
