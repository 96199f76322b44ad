import { appendFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config/load.js";
import { PathFilter } from "../plan/filter.js";
import { walkHome } from "../plan/walk.js";
import { runBackup } from "./backup.js";
import type { BackupProgress } from "./progress.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);

/** A tree: files in up to three folders, some of them large enough to be read in chunks. */
const tree = fc.array(
  fc.record({
    folder: fc.constantFrom("", "site", "site/wwwroot", "data/logs"),
    name: fc.stringMatching(/^[a-z]{1,8}$/),
    size: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1 << 20, max: 3 << 20 })),
  }),
  { minLength: 1, maxLength: 12 },
);

/** Sizes of the home's files in the order a backup archives them, as they are now. */
function archiveOrderSizes(home: string): number[] {
  return walkHome(home, new PathFilter([], "none")).entries.filter((e) => e.kind === "file").map((e) => e.size);
}

describe("backup progress", () => {
  it("never reports more bytes than the total, and counts files together with their bytes, even when a file grows after the walk", async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.nat(), fc.integer({ min: 1, max: 200_000 }), async (files, growIndex, growth) => {
        const dir = await mkdtemp(path.join(os.tmpdir(), "progress-"));
        const home = path.join(dir, "home");
        await mkdir(home);
        const written = new Map<string, number>();
        for (const file of files) {
          const relative = path.posix.join(file.folder, file.name);
          // A name already used as a folder (or a file under a used name) is skipped: the tree stays a tree.
          if ([...written.keys()].some((other) => other.startsWith(`${relative}/`) || relative.startsWith(`${other}/`))) continue;
          await mkdir(path.join(home, file.folder), { recursive: true });
          await writeFile(path.join(home, relative), Buffer.alloc(file.size, 97));
          written.set(relative, file.size);
        }
        const names = [...written.keys()];
        const growing = path.join(home, names[growIndex % names.length]!);

        const options = resolveConfig({ name: "shop", home, backup: { storage: `file:${path.join(dir, "backups")}` } }, { baseDir: dir });
        const events: BackupProgress[] = [];
        const result = await runBackup(options, {
          onProgress: (p) => events.push({ ...p }),
          onLog: (line) => {
            // The walk is over and nothing is read yet: the file grows in between.
            if (line.message.startsWith("Planned ")) appendFileSync(growing, Buffer.alloc(growth, 98));
          },
        });
        expect(result.status).toBe("Succeeded");

        const sizes = archiveOrderSizes(home);
        const through = (count: number) => sizes.slice(0, count).reduce((sum, size) => sum + size, 0);
        expect(events.length).toBeGreaterThan(0);
        for (const event of events) {
          expect(event.bytes).toBeLessThanOrEqual(event.totalBytes);
          expect(event.files).toBeLessThanOrEqual(event.totalFiles);
          // The bytes are those of the files counted, and of at most one more being read.
          expect(event.bytes).toBeGreaterThanOrEqual(through(event.files));
          expect(event.bytes).toBeLessThanOrEqual(through(event.files + 1));
        }
        const last = events.at(-1)!;
        expect(last).toMatchObject({ phase: "finish", files: sizes.length, totalFiles: sizes.length, bytes: through(sizes.length), totalBytes: through(sizes.length) });
      }),
      { seed, numRuns: 25 },
    );
  });
});
