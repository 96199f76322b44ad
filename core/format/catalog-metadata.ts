import type { BackupStatus, BackupTrigger, ManifestSummary } from "./manifest.js";

/**
 * What a listing shows of one backup, carried as metadata on its manifest so
 * that a container of thousands of backups is listed from the listing alone,
 * without opening a manifest. The manifest stays the truth: restore and
 * verify read it whole; this is a copy for listing, written in the same
 * request that makes the manifest visible.
 */
export interface CatalogFacts {
  appName: string;
  status: BackupStatus;
  trigger: BackupTrigger;
  startedAt: Date;
  finishedAt: Date;
  /** Bytes of the zip; 0 when no zip was committed. */
  sizeBytes: number;
  /** Uncompressed bytes of everything in the zip. */
  contentBytes: number;
  files: number;
  databases: number;
  toolVersion: string;
  error?: string;
}

/** The metadata layout's version: a reader that does not know it reads the manifest instead. */
const layoutVersion = "1";

/**
 * Metadata names: Azure keeps them case-insensitively and returns them as
 * written; lower case letters only, so they are valid C# identifiers as Azure
 * requires and a local store's record reads them back the same way.
 */
const keys = {
  layout: "appbackupcatalog",
  app: "appbackupapp",
  status: "appbackupstatus",
  trigger: "appbackuptrigger",
  startedAt: "appbackupstarted",
  finishedAt: "appbackupfinished",
  sizeBytes: "appbackupzipbytes",
  contentBytes: "appbackupcontentbytes",
  files: "appbackupfiles",
  databases: "appbackupdatabases",
  toolVersion: "appbackuptool",
  error: "appbackuperror",
} as const;

/**
 * Azure allows 8 KiB of metadata per blob and percent-encoding may make a
 * character twelve bytes: an error longer than this many characters is cut,
 * the manifest keeps it whole.
 */
const maxErrorLength = 400;

const statuses: ReadonlySet<string> = new Set<BackupStatus>(["InProgress", "Succeeded", "PartiallySucceeded", "Failed", "TimedOut", "Skipped"]);
const triggers: ReadonlySet<string> = new Set<BackupTrigger>(["OnDemand", "Scheduled"]);

/** The facts of a manifest about to be written. */
export function catalogFactsOf(summary: ManifestSummary): CatalogFacts {
  return {
    appName: summary.appName,
    status: summary.status,
    trigger: summary.trigger,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    sizeBytes: summary.zip?.sizeBytes ?? 0,
    contentBytes: summary.contentBytes,
    files: summary.files,
    databases: summary.databases.length,
    toolVersion: summary.toolVersion,
    ...(summary.error ? { error: summary.error } : {}),
  };
}

/**
 * Metadata values travel as HTTP header values: free text (app names, errors,
 * versions) is percent-encoded so that any character survives as printable ASCII.
 */
export function catalogMetadataOf(facts: CatalogFacts): Record<string, string> {
  const metadata: Record<string, string> = {
    [keys.layout]: layoutVersion,
    [keys.app]: encodeURIComponent(facts.appName),
    [keys.status]: facts.status,
    [keys.trigger]: facts.trigger,
    [keys.startedAt]: facts.startedAt.toISOString(),
    [keys.finishedAt]: facts.finishedAt.toISOString(),
    [keys.sizeBytes]: String(facts.sizeBytes),
    [keys.contentBytes]: String(facts.contentBytes),
    [keys.files]: String(facts.files),
    [keys.databases]: String(facts.databases),
    [keys.toolVersion]: encodeURIComponent(facts.toolVersion),
  };
  if (facts.error) metadata[keys.error] = encodeURIComponent(cutError(facts.error));
  return metadata;
}

/**
 * The facts in an object's metadata, or undefined when it carries none of ours
 * or any value is not what this code writes (a manifest written before
 * metadata existed, or metadata someone else set): the caller then reads the
 * manifest. Never throws: metadata comes from the container, not from us.
 */
export function catalogFactsFrom(metadata: Readonly<Record<string, string>> | undefined): CatalogFacts | undefined {
  if (!metadata || metadata[keys.layout] !== layoutVersion) return undefined;
  const status = metadata[keys.status];
  const trigger = metadata[keys.trigger];
  if (status === undefined || !statuses.has(status) || trigger === undefined || !triggers.has(trigger)) return undefined;
  const appName = decoded(metadata[keys.app]);
  const toolVersion = decoded(metadata[keys.toolVersion]);
  const startedAt = isoDate(metadata[keys.startedAt]);
  const finishedAt = isoDate(metadata[keys.finishedAt]);
  const sizeBytes = count(metadata[keys.sizeBytes]);
  const contentBytes = count(metadata[keys.contentBytes]);
  const files = count(metadata[keys.files]);
  const databases = count(metadata[keys.databases]);
  const error = metadata[keys.error] === undefined ? undefined : decoded(metadata[keys.error]);
  if (
    !appName ||
    toolVersion === undefined ||
    !startedAt ||
    !finishedAt ||
    sizeBytes === undefined ||
    contentBytes === undefined ||
    files === undefined ||
    databases === undefined ||
    (metadata[keys.error] !== undefined && error === undefined)
  ) {
    return undefined;
  }
  return {
    appName,
    status: status as BackupStatus,
    trigger: trigger as BackupTrigger,
    startedAt,
    finishedAt,
    sizeBytes,
    contentBytes,
    files,
    databases,
    toolVersion,
    ...(error ? { error } : {}),
  };
}

/** Cut at a character, never inside one: a lone surrogate cannot be percent-encoded. */
function cutError(error: string): string {
  const characters = Array.from(error.replace(/[\uD800-\uDFFF]/g, (c, i: number, all: string) => (isPaired(all, i) ? c : "\uFFFD")));
  return characters.length <= maxErrorLength ? characters.join("") : `${characters.slice(0, maxErrorLength - 1).join("")}…`;
}

function isPaired(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code <= 0xdbff) return index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00;
  return index > 0 && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800;
}

function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function isoDate(value: string | undefined): Date | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
