/** A second backup of an app within the same second gets `-2`, `-3`, … after the stamp. */
const MAX_SEQUENCE = 999;

/**
 * Azure's backup naming: `{app}_{UTC yyyyMMddHHmmss}`, and `{app}_{stamp}-{n}`
 * (n from 2) for a further backup of the app that starts in the same second.
 */
export function backupNameFor(appName: string, at: Date, sequence = 1): string {
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > MAX_SEQUENCE) {
    throw new RangeError(`A backup sequence number is 1 to ${MAX_SEQUENCE}, not ${sequence}.`);
  }
  const stamp = at.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return sequence === 1 ? `${appName}_${stamp}` : `${appName}_${stamp}-${sequence}`;
}

export const MAX_BACKUP_SEQUENCE = MAX_SEQUENCE;

const stampedSuffix = /^\d{14}(?:-(?:[2-9]|[1-9]\d{1,2}))?$/;

/**
 * True when `name` is one of the app's own stamped names (`{app}_{yyyyMMddHHmmss}`
 * with an optional same-second `-n`): the only names retention may delete.
 */
export function isStampedBackupNameOf(appName: string, name: string): boolean {
  return name.startsWith(`${appName}_`) && stampedSuffix.test(name.slice(appName.length + 1));
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
