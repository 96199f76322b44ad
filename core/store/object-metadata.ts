import { AppBackupError } from "../errors.js";

/**
 * The metadata name of the token each Azure write carries (see AzureBlobStore.writeOnce):
 * kept for the stores' own use, never written by a caller nor handed out.
 */
export const writeTokenMetadataName = "appbackupwrite";

/** Azure's limit on all of one blob's metadata names and values together; a local container keeps the same. */
const maxMetadataBytes = 8 * 1024;

/**
 * Refuses metadata that Azure would refuse or change on the way: names must be
 * valid C# identifiers (lower case here, as Azure compares them without case
 * and a local record should read back the same), values travel as HTTP header
 * values, so only printable ASCII without leading or trailing spaces survives
 * them unchanged. Both stores apply the same rules, so a write that works on a
 * local folder works on Azure too.
 */
export function assertWritableMetadata(metadata: Readonly<Record<string, string>>, objectName: string): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata)) {
    const why = !/^[a-z_][a-z0-9_]*$/.test(key)
      ? `its name ${JSON.stringify(key)} is not lower-case letters, digits and '_', starting with a letter or '_'`
      : key === writeTokenMetadataName || key === "__proto__"
        ? `its name ${JSON.stringify(key)} is kept for the store's own use`
        : typeof value !== "string" || !/^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/.test(value)
          ? `the value of ${key} is not printable ASCII without spaces at either end (percent-encode free text)`
          : undefined;
    if (why) throw invalidMetadata(objectName, why);
    bytes += key.length + value.length;
  }
  if (bytes > maxMetadataBytes) throw invalidMetadata(objectName, `it takes ${bytes} bytes, more than the ${maxMetadataBytes} Azure allows`);
}

function invalidMetadata(objectName: string, why: string): AppBackupError {
  return new AppBackupError("USAGE", `The metadata given for ${objectName} cannot be stored: ${why}.`, "Store free text percent-encoded and keep the metadata under 8 KiB.");
}

/** Metadata as a store hands it out: names in lower case, the store's own names left out, undefined when nothing is left. */
export function visibleMetadata(raw: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  let visible: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(raw)) {
    const name = key.toLowerCase();
    // A name from the container must not reach the object's prototype.
    if (name === writeTokenMetadataName || name === "__proto__") continue;
    (visible ??= {})[name] = value;
  }
  return visible;
}
