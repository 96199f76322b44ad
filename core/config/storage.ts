import path from "node:path";
import { safeParse } from "valibot";
import type { StorageSpec } from "../options.js";
import { substitutionFor, whereOf, type ConfigContext } from "./context.js";
import type { Substitute } from "./env-substitution.js";
import { configIssuesOf, fixKeysHint, invalidConfiguration } from "./issues.js";
import { storageSchema, type StorageInput } from "./schema.js";

/**
 * What a storage string is: a folder (`file:./backups`), an Azure Storage
 * connection string, an account URL (no query, so no SAS), a container URL
 * with its SAS, or none of these (`${env:VAR}`, say, until it is resolved).
 */
export type StorageStringForm = "folder" | "connection-string" | "account-url" | "container-url" | "unknown";

export function storageStringForm(value: string): StorageStringForm {
  if (/^file:/i.test(value)) return "folder";
  if (/(?:^|;)\s*(?:AccountName|BlobEndpoint|DefaultEndpointsProtocol|UseDevelopmentStorage)\s*=/i.test(value)) return "connection-string";
  if (/^https?:\/\/[^?]*$/i.test(value)) return "account-url";
  if (/^https?:\/\//i.test(value)) return "container-url";
  return "unknown";
}

/**
 * The engine's StorageSpec for a `backup.storage` value in any of its forms,
 * checked as app-backup.yml checks it: relative folders from `baseDir`,
 * `${env:VAR}` references from the environment. Errors carry the key `backup.storage`.
 */
export function resolveStorage(storage: unknown, context: ConfigContext): StorageSpec {
  const parsed = safeParse(storageSchema, storage);
  if (!parsed.success) throw invalidConfiguration(whereOf(context), configIssuesOf(parsed.issues, ["backup", "storage"]), fixKeysHint);
  return storageSpecOf(parsed.output, context, substitutionFor(context));
}

/** The StorageSpec of a storage value already validated, with the configuration's own substitution. */
export function storageSpecOf(storage: StorageInput, context: ConfigContext, substitute: Substitute): StorageSpec {
  const { baseDir } = context;
  if (typeof storage === "string") {
    const value = substitute(storage, "backup.storage");
    const form = storageStringForm(value);
    if (form === "folder") {
      const target = value.startsWith("file://") ? new URL(value).pathname : value.slice("file:".length);
      return { kind: "local", path: path.resolve(baseDir, target) };
    }
    // A URL without a SAS is taken for a container URL: opening the store says what it lacks.
    if (form === "container-url" || form === "account-url") return { kind: "azure-sas", containerUrl: value };
    // The schema checked the form of a literal value; a whole value from the environment is checked here.
    throw invalidConfiguration(
      whereOf(context),
      [{ path: "backup.storage", message: "the value from the environment is neither a container SAS URL nor file:./folder." }],
      "Set the variable to https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS or file:./folder.",
    );
  }
  if ("path" in storage) return { kind: "local", path: path.resolve(baseDir, substitute(storage.path, "backup.storage.path")) };
  if ("connectionString" in storage) {
    return {
      kind: "azure-connection-string",
      connectionString: substitute(storage.connectionString, "backup.storage.connectionString"),
      container: substitute(storage.container, "backup.storage.container"),
    };
  }
  return {
    kind: "azure-identity",
    accountUrl: substitute(storage.accountUrl, "backup.storage.accountUrl"),
    container: substitute(storage.container, "backup.storage.container"),
  };
}
