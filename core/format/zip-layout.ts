/**
 * Where things live inside a backup's zip, as in Azure's backups. The backup
 * writes by these names and restore, verify and show read by them, so a
 * layout change is one edit here.
 */

/** Site content lives under this prefix: `fs/site/wwwroot/...`. */
export const CONTENT_PREFIX = "fs/";

/** The app configuration (see meta.ts), at the root of the zip. */
export const META_ENTRY = "meta";

/** The zip entry of a site path (relative to the home folder). */
export const contentEntryName = (path: string) => `${CONTENT_PREFIX}${path}`;

/** The zip entry of a database's dump: at the root, named after its connection string. */
export function dumpEntryName(connectionStringName: string): string {
  return `${connectionStringName.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_")}.sql`;
}
