import type { ReusableBufferSource } from "../archive/random-access-source.js";
import type { Store } from "../store/store.js";

/** A zip's bytes at any offset; restore reuses its buffers, so every source here reads into them and says where it is. */
export type ZipByteSource = ReusableBufferSource;

/** The zip of a backup, read the way its store reads best (a file handle, or ranged blob reads). */
export function zipSourceOf(store: Store, name: string): Promise<ZipByteSource> {
  return store.openRandomAccess(name);
}
