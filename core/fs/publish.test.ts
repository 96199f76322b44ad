import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { publishExclusive, publishReplacing } from "./publish.js";

const folder = () => mkdtemp(path.join(os.tmpdir(), "publish-"));

describe("publishing a file whole", () => {
  it("publishes exclusively: the first writer wins, the name is never overwritten", async () => {
    const dir = await folder();
    const target = path.join(dir, "journal.json");
    const results = await Promise.all(["a", "b", "c", "d"].map((text) => publishExclusive(target, text)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(["a", "b", "c", "d"]).toContain(await readFile(target, "utf8"));
    expect(await publishExclusive(target, "late")).toBe(false);
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });

  it("replaces in one step, with the permissions asked for", async () => {
    const dir = await folder();
    const target = path.join(dir, "app-backup.yml");
    await writeFile(target, "old");
    await publishReplacing(target, "new", { mode: 0o600, flush: true });
    expect(await readFile(target, "utf8")).toBe("new");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["app-backup.yml"]);
  });

  it("writes under the temporary name given, and removes it when publishing fails", async () => {
    const dir = await folder();
    const temp = path.join(dir, ".partial-x");
    await expect(publishReplacing(path.join(dir, "missing", "x"), "data", { temp })).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(dir)).toEqual([]);
  });
});
