import path from "node:path";
import { FIELD, FIELDS } from "./extract-protocol.js";
import type { EntryTable } from "./entry-table.js";
import type { ExtractItem } from "./extract-request.js";
import type { ZipIndex } from "./zip-index.js";

/** Where an item's bytes are in the range sent to the worker, and where they must end. */
export interface PlacedItem {
  item: ExtractItem;
  at: number;
  limit: number;
}

/** Entries in the worker's compact form (see the worker source). */
export function describeItems(table: ZipIndex["table"], digests: EntryTable, list: readonly PlacedItem[]) {
  const fields = new Float64Array(list.length * FIELDS);
  const expected = new Uint8Array(list.length * 32);
  const targets: string[] = [];
  list.forEach(({ item, at, limit }, index) => {
    const base = index * FIELDS;
    const row = item.zipIndex;
    const mode = item.mode ?? 0o644;
    fields[base + FIELD.at] = at;
    fields[base + FIELD.limit] = limit;
    fields[base + FIELD.method] = table.methods[row]!;
    fields[base + FIELD.compressedSize] = table.compressedSizes[row]!;
    fields[base + FIELD.size] = table.sizes[row]!;
    fields[base + FIELD.crc32] = item.checkCrc ? table.crc32s[row]! : -1;
    fields[base + FIELD.mode] = mode;
    // The umask may have taken bits off the creation mode; set them explicitly then.
    fields[base + FIELD.chmod] = (mode & processUmask) !== 0 ? 1 : 0;
    fields[base + FIELD.mtimeMs] = item.mtimeMs ?? Date.now();
    fields[base + FIELD.uid] = item.owner?.uid ?? -1;
    fields[base + FIELD.gid] = item.owner?.gid ?? -1;
    fields[base + FIELD.returnData] = item.returnData ? 1 : 0;
    // Without an expected digest, one that no content has: the entry is reported as not matching the manifest.
    if (digests.hasSha256[item.digestIndex]) digests.digests.copyTo(item.digestIndex, expected, index * 32);
    else expected.fill(0xff, index * 32, index * 32 + 32);
    targets.push(item.target ?? (item.targetRoot ? targetUnder(item.targetRoot, item.name) : ""));
  });
  return { fields, sha256: expected, targets: targets.join("\0") };
}

/** `{root}/{name without its first segment}`, with the platform's separators; names were checked, so no normalizing is needed. */
function targetUnder(root: string, name: string): string {
  const relative = name.slice(name.indexOf("/") + 1);
  return `${root}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
}

const processUmask = readUmask();

function readUmask(): number {
  // Reading the umask means setting it; set it straight back.
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}
