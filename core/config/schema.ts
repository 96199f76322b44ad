import { z } from "zod";
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

/** Azure's `databaseType` values for backups. */
export const databaseTypes = ["SqlAzure", "MySql", "LocalMySql", "PostgreSql"] as const;

const size = z
  .union([z.string(), z.number()])
  .refine((value) => parseSize(value) !== undefined, {
    message: 'expected a size such as "10GB", "512MB" or a number of bytes',
  })
  .transform((value) => parseSize(value)!);

const nonEmpty = z.string().trim().min(1, { message: "must not be empty" });

const storage = z.union(
  [
    // A whole value from the environment is checked once resolved.
    z.string().trim().regex(/^(?:https?:\/\/|file:|\$\{env:)/i, {
      message:
        'expected a container SAS URL ("https://account.blob.core.windows.net/container?sv=...&sig=..."), "file:./folder", {connectionString, container}, {accountUrl, container} or {path}',
    }),
    z.strictObject({ connectionString: nonEmpty, container: nonEmpty }),
    z.strictObject({ accountUrl: z.string().url({ message: "expected an account URL such as https://account.blob.core.windows.net" }), container: nonEmpty }),
    z.strictObject({ path: nonEmpty }),
  ],
  {
    error: () =>
      'expected a container SAS URL, "file:./folder", {connectionString, container}, {accountUrl, container} or {path}',
  },
);

const databaseReference = z.strictObject({
  connectionStringName: nonEmpty,
  databaseType: z.enum(databaseTypes, { message: `expected one of ${databaseTypes.join(", ")}` }),
  /** Azure's optional display name of the database. */
  name: z.string().optional(),
});

export const scheduleSchema = z.strictObject({
  frequencyInterval: z.number().int().min(1).default(7),
  frequencyUnit: z.enum(["Day", "Hour"], { message: 'expected "Day" or "Hour"' }).default("Day"),
  startTime: z.iso.datetime({ offset: true, message: "expected an ISO-8601 time such as 2026-01-01T02:00:00Z" }).optional(),
  retentionPeriodInDays: z.number().int().min(0).default(30),
  keepAtLeastOneBackup: z.boolean().default(true),
  /** Beyond Azure: thin older scheduled backups the way Azure's automatic backups are kept. */
  tiered: z.boolean().default(false),
});

const backupSection = z.strictObject({
  storage: storage.default("file:./backups"),
  databases: z.array(databaseReference).default([]),
  maxSize: size.default(10 * 1024 ** 3),
  databaseMaxSize: size.default(4 * 1024 ** 3),
  /** Filter lines given inline; when present they replace the `_backup.filter` file. */
  filter: z.array(z.string()).optional(),
  enabled: z.boolean().default(true),
  schedule: scheduleSchema.optional(),
});

export const configSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,59}$/, {
      message: "expected letters, digits and hyphens (at most 60), starting with a letter or digit, as in Azure app names",
    }),
  home: nonEmpty,
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  connectionStrings: z
    .record(
      z.string(),
      z.strictObject({
        type: z.enum(connectionStringTypes, { message: `expected one of ${connectionStringTypes.join(", ")}` }),
        value: z.string(),
      }),
    )
    .default({}),
  backup: backupSection.default(() => backupSection.parse({})),
});

export type ConfigFile = z.infer<typeof configSchema>;
export type ScheduleSpec = z.infer<typeof scheduleSchema>;
