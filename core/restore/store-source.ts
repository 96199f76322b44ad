import { fileSource, readingInto, type ReusableBufferSource } from "../archive/random-access-source.js";
import { LocalStore } from "../store/local.js";
import type { Store } from "../store/store.js";

/** A zip's bytes at any offset; restore reuses its buffers, so every source here reads into them and says where it is. */
export type ZipByteSource = ReusableBufferSource;

/** The zip of a backup: a file handle for a local container, ranged reads for blob storage. */
export async function zipSourceOf(store: Store, name: string): Promise<ZipByteSource> {
  if (store instanceof LocalStore) return fileSource(store.pathOf(name));
  const info = await store.stat(name);
  if (!info) throw new Error(`${name} does not exist in ${store.location}.`);
  const readInto = async (target: Uint8Array, offset: number, length: number) => {
    if (length === 0) return;
    let filled = 0;
    for await (const chunk of await store.read(name, { offset, length })) {
      const bytes = chunk as Buffer;
      if (filled + bytes.length > length) throw new RangeError(`${name}: the storage returned more than the ${length} bytes asked for at offset ${offset}.`);
      target.set(bytes, filled);
      filled += bytes.length;
    }
    if (filled !== length) throw new RangeError(`${name} ended at ${offset + filled} bytes while reading ${length} bytes at offset ${offset}.`);
  };
  return readingInto({ size: info.size, local: false, readInto });
}
