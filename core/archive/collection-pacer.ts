import { collectGarbage } from "./garbage-collection.js";
import type { MallocTrimmer } from "./native-memory.js";

/**
 * Asks for a young-generation collection each time the output has moved
 * `everyBytes` on: that is what frees the buffers passed through since (see
 * garbage-collection.ts), and pacing it by bytes keeps its cost a fixed share.
 * A trimmer, when given, has malloc hand its free pages back every so often
 * (native-memory.ts), after a full collection.
 */
export class CollectionPacer {
  private collectedAt = 0;

  constructor(
    private readonly everyBytes: number,
    private readonly trimmer?: MallocTrimmer,
  ) {}

  pace(position: number): void {
    if (position - this.collectedAt < this.everyBytes) return;
    this.collectedAt = position;
    if (this.trimmer?.due(position)) {
      // A full collection first: it frees the buffers whose owners lived long enough to reach the old generation.
      collectGarbage("major");
      this.trimmer.trim(position);
    } else {
      collectGarbage("minor");
    }
  }
}
