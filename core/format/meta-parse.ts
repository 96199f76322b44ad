// Reading the app configuration a backup stores, apart from writing it (meta.ts): a backup loads no XML parser.
import { XMLParser } from "fast-xml-parser";
import { AppBackupError } from "../errors.js";
import type { AppMeta } from "./meta.js";
import { attr } from "./xml-names.js";

export function parseMeta(xml: string): AppMeta {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: attr,
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => name === "Setting" || name === "ConnectionString",
  });
  const root = parser.parse(xml)?.AppConfiguration;
  if (!root) throw new AppBackupError("BACKUP_CORRUPT", "The backup's meta entry is not an app configuration document.");
  const settings: Record<string, string> = {};
  for (const s of root.Settings?.Setting ?? []) settings[s[`${attr}name`]] = s[`${attr}value`] ?? "";
  const connectionStrings: AppMeta["connectionStrings"] = {};
  for (const c of root.ConnectionStrings?.ConnectionString ?? []) {
    connectionStrings[c[`${attr}name`]] = { type: c[`${attr}type`], value: c[`${attr}value`] ?? "" };
  }
  return { name: String(root.Name ?? ""), settings, connectionStrings };
}
