// Reading a manifest, apart from writing it (manifest-xml.ts): a backup loads no XML parser.
import { XMLParser } from "fast-xml-parser";
import type { ArchiveEntry } from "../archive/types.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest, ManifestSummary } from "./manifest.js";
import { attr } from "./xml-names.js";

function nameOf(node: Record<string, string>): string {
  return node[`${attr}name64`] !== undefined ? Buffer.from(node[`${attr}name64`], "base64").toString() : (node[`${attr}name`] ?? "");
}

const arrays = new Set(["Item", "Line", "Warning", "Database", "Table", "NotCovered", "Entry"]);

function parseXml(xml: string, source: string): Record<string, any> {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: attr,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    isArray: (name) => arrays.has(name),
  });
  // A DOCTYPE (with its entities), a comment or CDATA: app-backup never writes one, so a manifest that has one was made elsewhere.
  if (xml.includes("<!")) {
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} holds a declaration (<!…) that app-backup never writes; it was not used and nothing was changed.`);
  }
  let doc: Record<string, any>;
  try {
    doc = parser.parse(xml, true);
  } catch (error) {
    // The parser quotes the damaged bytes: control characters are escaped so the message stays readable.
    const why = JSON.stringify(String((error as Error).message).slice(0, 300)).slice(1, -1);
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} is not valid XML (${why}); it was not used and nothing was changed.`);
  }
  const root = doc.BackupManifest;
  if (!root || typeof root !== "object") {
    throw new AppBackupError("BACKUP_CORRUPT", `${source} is not an app-backup manifest (no <BackupManifest> root); it was not used and nothing was changed.`);
  }
  return root;
}

const text = (value: unknown): string => (value === undefined || value === null ? "" : typeof value === "object" ? String((value as any)["#text"] ?? "") : String(value));
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export function parseManifestSummary(xml: string, source: string): ManifestSummary {
  return summaryOf(parseXml(xml, source), source);
}

const statuses: ReadonlySet<string> = new Set(["InProgress", "Succeeded", "PartiallySucceeded", "Failed", "TimedOut", "Skipped"]);

/**
 * A size or count the manifest states: a whole, non-negative number that a
 * double holds exactly, or the manifest is refused. `fallback` is used when the
 * value is absent (older or Failed manifests leave some out).
 */
function amount(value: unknown, what: string, source: string, fallback?: number): number {
  const written = typeof value === "string" ? value : text(value);
  if (written === "" && fallback !== undefined) return fallback;
  if (!/^\d{1,16}$/.test(written) || !Number.isSafeInteger(Number(written))) {
    const shown = written.length > 40 ? `${written.slice(0, 40)}…` : written;
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} is damaged: its ${what} is ${JSON.stringify(shown)}, not a whole number of at most 16 digits. It was not used; nothing was changed.`);
  }
  return Number(written);
}

function summaryOf(root: Record<string, any>, source: string): ManifestSummary {
  const zip = root.Zip as Record<string, string> | undefined;
  const summary: ManifestSummary = {
    formatVersion: 1,
    appName: text(root.AppName),
    backupName: text(root.BackupName),
    status: text(root.Status) as ManifestSummary["status"],
    trigger: (text(root.Trigger) || "OnDemand") as ManifestSummary["trigger"],
    startedAt: new Date(text(root.StartedAt)),
    finishedAt: new Date(text(root.FinishedAt)),
    toolVersion: text(root.ToolVersion),
    zip: zip ? { name: zip[`${attr}name`]!, sizeBytes: amount(zip[`${attr}sizeBytes`], "zip size", source) } : undefined,
    contentBytes: amount(root.ContentSizeInBytes, "content size", source, 0),
    files: amount(root.FileCount, "file count", source, 0),
    error: root.Error !== undefined ? text(root.Error) : undefined,
    origin: Object.fromEntries(list<Record<string, string>>(root.Origin?.Item).map((i) => [i[`${attr}key`]!, i[`${attr}value`] ?? ""])),
    filter: { source: root.Filter?.[`${attr}source`] ?? "", lines: list<unknown>(root.Filter?.Line).map(text) },
    warnings: list<unknown>(root.Warnings?.Warning).map(text),
    databases: list<Record<string, any>>(root.Databases?.Database).map((d) => ({
      connectionStringName: d[`${attr}connectionStringName`],
      databaseType: d[`${attr}databaseType`],
      entry: d[`${attr}entry`],
      engine: d[`${attr}engine`],
      serverVersion: d[`${attr}serverVersion`] ?? "",
      database: d[`${attr}database`] ?? "",
      consistency: d[`${attr}consistency`] ?? "",
      sizeBytes: amount(d[`${attr}sizeBytes`], "database dump size", source),
      sha256: d[`${attr}sha256`],
      tables: list<Record<string, string>>(d.Table).map((t) => ({ name: t[`${attr}name`]!, rows: amount(t[`${attr}rows`], "table row count", source) })),
      notCovered: list<unknown>(d.NotCovered).map(text),
      warnings: list<unknown>(d.Warning).map(text),
    })),
    skipped: list<Record<string, string>>(root.Skipped?.Entry).map((s) => ({ name: nameOf(s), reason: s[`${attr}reason`] ?? "" })),
  };
  if (!summary.backupName || !summary.status || Number.isNaN(summary.startedAt.getTime())) {
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} lacks its backup name, status or start time; it was not used and nothing was changed.`);
  }
  if (!statuses.has(summary.status)) {
    const shown = summary.status.length > 40 ? `${summary.status.slice(0, 40)}…` : summary.status;
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} is damaged: its status ${JSON.stringify(shown)} is not one app-backup writes. It was not used; nothing was changed.`);
  }
  return summary;
}

export function parseManifest(xml: string, source: string): BackupManifest {
  const root = parseXml(xml, source);
  const summary = summaryOf(root, source);
  const entries = list<Record<string, string>>(root.Entries?.Entry).map(
    (e): ArchiveEntry => ({
      name: nameOf(e),
      kind: e[`${attr}kind`] as ArchiveEntry["kind"],
      size: Number(e[`${attr}size`]),
      compressedSize: Number(e[`${attr}compressedSize`]),
      method: e[`${attr}method`] as ArchiveEntry["method"],
      crc32: parseInt(e[`${attr}crc32`] ?? "0", 16),
      sha256: e[`${attr}sha256`] ?? "",
      mtime: new Date(e[`${attr}mtime`] ?? 0),
      mode: parseInt(e[`${attr}mode`] ?? "0", 8),
      ...(e[`${attr}linkTarget64`] !== undefined
        ? { linkTarget: Buffer.from(e[`${attr}linkTarget64`], "base64").toString() }
        : e[`${attr}linkTarget`] !== undefined
          ? { linkTarget: e[`${attr}linkTarget`] }
          : {}),
    }),
  );
  const declared = Number(root.Entries?.[`${attr}count`] ?? entries.length);
  if (declared !== entries.length) {
    throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} declares ${declared} entries but lists ${entries.length}.`);
  }
  return { ...summary, entries };
}

/**
 * The summary of a manifest from its first bytes: the entry list comes last by
 * design, so listing many backups need not download every entry list.
 */
export function summaryFromHead(head: string, source: string): ManifestSummary | undefined {
  const cut = head.indexOf("<Entries");
  if (cut < 0) return undefined;
  return parseManifestSummary(`${head.slice(0, cut)}</BackupManifest>`, source);
}
