/** Azure's backup naming: `{app}_{UTC yyyyMMddHHmmss}`. */
export function backupNameFor(appName: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${appName}_${stamp}`;
}

export const blobNames = (backupName: string) => ({
  zip: `${backupName}.zip`,
  manifest: `${backupName}.xml`,
  log: `${backupName}.log`,
});

/** A backup name as given by a user: letters, digits and `_-.` only, so it is a valid blob and file name. */
export function isValidBackupName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/.test(name) && !name.endsWith(".");
}
