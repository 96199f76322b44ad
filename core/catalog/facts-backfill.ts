import { blobNames } from "../format/backup-name.js";
import { catalogFactsOf, catalogMetadataOf } from "../format/catalog-metadata.js";
import type { ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";

/**
 * Records the listing facts on manifests written before manifests carried
 * them, once their heads have been read and found to be theirs: the next
 * listing then reads none of them. The manifest's content never changes, so
 * the facts stay true. Best effort: with credentials that may only read, the
 * first refusal ends the attempts and listing goes on as it did.
 */
export class FactsBackfill {
  private refused = false;

  constructor(private readonly store: Store) {}

  async record(name: string, summary: ManifestSummary, signal?: AbortSignal): Promise<void> {
    if (this.refused) return;
    try {
      await this.store.setMetadata(blobNames(name).manifest, catalogMetadataOf(catalogFactsOf(summary)), { abortSignal: signal });
    } catch {
      this.refused = true;
    }
  }
}
