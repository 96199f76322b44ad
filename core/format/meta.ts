import XMLBuilder from "fast-xml-builder";
import type { AppBackupOptions } from "../options.js";
import { redactConnectionString } from "../secrets.js";
import { attr } from "./xml-names.js";

/** The app configuration stored as `meta` at the root of the zip, as Azure does. */
export interface AppMeta {
  name: string;
  settings: Record<string, string>;
  connectionStrings: Record<string, { type: string; value: string }>;
}

/**
 * The configuration as declared: `${env:VAR}` references stay references, so a
 * backup never carries a secret the configuration did not spell out. A password
 * written literally in a connection string is masked, with a warning.
 */
export function metaFromOptions(options: AppBackupOptions, warn: (message: string) => void): AppMeta {
  const connectionStrings: AppMeta["connectionStrings"] = {};
  for (const [name, cs] of Object.entries(options.app.connectionStrings)) {
    const value = redactConnectionString(cs.declared, cs.type, { keepReferences: true });
    if (value !== cs.declared) {
      warn(`Connection string ${name} holds a literal password; it is stored in the backup's meta as *** . Reference it as \${env:VAR} instead.`);
    }
    connectionStrings[name] = { type: cs.type, value };
  }
  return { name: options.app.name, settings: { ...options.app.declaredSettings }, connectionStrings };
}

export function metaToXml(meta: AppMeta): string {
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: attr, format: true, suppressEmptyNode: true });
  return `<?xml version="1.0" encoding="utf-8"?>\n${builder.build({
    AppConfiguration: {
      [`${attr}formatVersion`]: 1,
      Name: meta.name,
      Settings: { Setting: Object.entries(meta.settings).map(([name, value]) => ({ [`${attr}name`]: name, [`${attr}value`]: value })) },
      ConnectionStrings: {
        ConnectionString: Object.entries(meta.connectionStrings).map(([name, cs]) => ({
          [`${attr}name`]: name,
          [`${attr}type`]: cs.type,
          [`${attr}value`]: cs.value,
        })),
      },
    },
  })}`;
}
