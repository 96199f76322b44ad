/**
 * libdeflate through its Node-API binding (native/libdeflate-binding.c, built
 * into dist/native by scripts/build-libdeflate-binding.sh): whole-buffer
 * deflate at about 0.6 of zlib's CPU time, with output a little smaller at the
 * same level, and whole-buffer inflate with no stream object to build per
 * entry. Loaded in each thread that uses it (a binding is per thread).
 * Node built-ins only: the workers' compiled string holds this module.
 */
import { crc32 as zlibCrc32, inflateRawSync } from "node:zlib";

export interface LibdeflateBinding {
  /** Raw deflate of `input` at `level` (0-12) into `output`: the bytes written, or 0 if they do not fit. */
  deflate(input: Uint8Array, level: number, output: Uint8Array): number;
  /** Raw deflate data in `input` inflated into `output`: the bytes written, {@link INFLATE_BAD_DATA} or {@link INFLATE_NO_ROOM}. */
  inflate(input: Uint8Array, output: Uint8Array): number;
  crc32(input: Uint8Array): number;
  /** glibc's malloc_trim: the free pages inside malloc's arenas go back to the system; true if any did. */
  trimMemory(): boolean;
  /** Allocations of 128 KiB or more get pages of their own, returned when freed (process-wide); true if set. */
  mapLargeAllocations(): boolean;
  /** libdeflate's version, e.g. "1.14". */
  version: string;
}

/** What `inflate` answers for input that is not valid deflate data, truncated included. */
export const INFLATE_BAD_DATA = -1;
/** What `inflate` answers when the result does not fit in the output. */
export const INFLATE_NO_ROOM = -2;

const loaded = new Map<string, LibdeflateBinding | string>();

/**
 * The binding a worker was started with, for this thread: undefined (zlib does
 * the work) when none was given or, though the main thread loaded and checked
 * the same file, this thread cannot.
 */
export function libdeflateForWorker(file: string | undefined): LibdeflateBinding | undefined {
  const binding = file === undefined ? undefined : loadLibdeflate(file);
  return typeof binding === "string" ? undefined : binding;
}

/** Room for deflate's output of `length` bytes in the worst case, zlib's or libdeflate's. */
export function deflateRoom(length: number): number {
  return length + (length >> 3) + 1024;
}

/**
 * The binding at `file`, checked against zlib on a sample (it must inflate
 * back, and its CRC-32 agree), or why it cannot be used. Once per file and thread.
 */
export function loadLibdeflate(file: string): LibdeflateBinding | string {
  let binding = loaded.get(file);
  if (binding === undefined) {
    binding = checkedBinding(file);
    loaded.set(file, binding);
  }
  return binding;
}

function checkedBinding(file: string): LibdeflateBinding | string {
  try {
    const module = { exports: {} as Partial<LibdeflateBinding> };
    process.dlopen(module, file);
    const binding = module.exports;
    if (
      typeof binding.deflate !== "function" ||
      typeof binding.inflate !== "function" ||
      typeof binding.crc32 !== "function" ||
      typeof binding.trimMemory !== "function" ||
      typeof binding.mapLargeAllocations !== "function" ||
      typeof binding.version !== "string"
    ) {
      return `${file} is not app-backup's libdeflate binding`;
    }
    const sample = Buffer.from("a self-check of libdeflate's deflate and CRC-32 ".repeat(40));
    const output = Buffer.alloc(sample.length + 1024);
    const length = binding.deflate(sample, 4, output);
    if (!(length > 0 && length < sample.length) || !inflateRawSync(output.subarray(0, length)).equals(sample)) {
      return `${file} failed its self-check: its deflate output does not inflate back to the input`;
    }
    if (binding.crc32(sample) !== zlibCrc32(sample)) return `${file} failed its self-check: its CRC-32 differs from zlib's`;
    const inflated = Buffer.alloc(sample.length);
    if (binding.inflate(output.subarray(0, length), inflated) !== sample.length || !inflated.equals(sample)) {
      return `${file} failed its self-check: its inflate does not give back what was deflated`;
    }
    return binding as LibdeflateBinding;
  } catch (error) {
    return `${file} could not be loaded: ${(error as Error)?.message ?? String(error)}`;
  }
}

/** Raw deflate of `data` at `level` by `binding`, in a buffer of its own. */
export function libdeflateRaw(binding: LibdeflateBinding, data: Uint8Array, level: number): Buffer {
  const output = Buffer.allocUnsafe(deflateRoom(data.length));
  return output.subarray(0, binding.deflate(data, level, output));
}
