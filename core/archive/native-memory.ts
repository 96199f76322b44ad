import { keepYoungGenerationSmall } from "./garbage-collection.js";
import type { LibdeflateBinding } from "./libdeflate-binding.js";

/**
 * A backup passes hundreds of MiB through buffers that one thread allocates
 * and another frees (file reads, deflate output, upload blocks). glibc's malloc
 * keeps what is freed in its arenas, one per thread, and raises the size from
 * which an allocation gets pages of its own to the largest buffer freed so far,
 * so freed MiB-sized buffers stay in the arenas too. At the peak of a 4 GB
 * backup into Azurite, the two workers' arenas had grown to 29 MiB each, 31 MiB
 * of it resident. Node offers no call into malloc; the libdeflate binding, the
 * package's one piece of native code, carries the two that give it back.
 */
let mallocKeptSmall = false;

/**
 * For the processes app-backup owns (the CLI, the Action), set once the code
 * of the work is loaded and before the work starts: V8's young generation grows
 * no further, and once the binding is loaded, malloc maps large allocations on
 * their own pages.
 */
export function keepMemorySmall(): void {
  keepYoungGenerationSmall();
  mallocKeptSmall = true;
}

/** Called by the main thread with the binding it loaded: applies what `keepMemorySmall` asked for. */
export function bindingLoaded(binding: LibdeflateBinding): void {
  if (mallocKeptSmall) binding.mapLargeAllocations();
}

/**
 * When to ask malloc to hand back the free pages of every thread's arena: once
 * per `everyBytes` of archive output (a pass takes well under a millisecond).
 */
export class MallocTrimmer {
  private trimmedAt = 0;

  constructor(
    private readonly binding: LibdeflateBinding,
    private readonly everyBytes: number,
  ) {}

  /** Whether `everyBytes` of output have gone by since the last trim. */
  due(position: number): boolean {
    return position - this.trimmedAt >= this.everyBytes;
  }

  trim(position: number): void {
    this.trimmedAt = position;
    this.binding.trimMemory();
  }
}
