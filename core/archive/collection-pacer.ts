import { collectGarbage } from "./garbage-collection.js";

/**
 * Asks for a young-generation collection each time the output has moved
 * `everyBytes` on: that is what frees the buffers passed through since (see
 * garbage-collection.ts), and pacing it by bytes keeps its cost a fixed share.
 */
export class CollectionPacer {
  private collectedAt = 0;

  constructor(private readonly everyBytes: number) {}

  pace(position: number): void {
    if (position - this.collectedAt < this.everyBytes) return;
    this.collectedAt = position;
    collectGarbage("minor");
  }
}
