import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../core/store/local.js";
import { makeWorkspace, removeTemporaryFolders } from "../support/action-workspace.js";
import { writeCraftedBackup } from "../support/catalog-stores.js";
import { runAction } from "../support/run-action.js";

/** GitHub's limit on a step's outputs, and on its job summary. */
const oneMegabyte = 1024 * 1024;
const total = 3000;

let workspace: string;
let names: string[];
beforeAll(async () => {
  ({ workspace } = await makeWorkspace());
  const store = new LocalStore(path.join(workspace, "backups"));
  names = [];
  // One backup an hour, oldest first, as the catalog records them.
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < total; i++) {
    names.push(await writeCraftedBackup(store, { app: "shop", startedAt: new Date(start + i * 3_600_000), withFacts: true }));
  }
}, 120_000);
afterAll(removeTemporaryFolders);

describe("operation list with thousands of backups", () => {
  it("outputs the newest 100 and the total, and summarises as many, counting the rest, all well under 1 MB", async () => {
    const run = await runAction({ workspace, inputs: { operation: "list", "app-name": "shop", storage: "file:./backups" } });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);

    const backups = JSON.parse(run.outputs.backups!) as Array<{ name: string }>;
    expect(backups.map((b) => b.name)).toEqual(names.slice(-100).reverse());
    expect(run.outputs["backups-total"]).toBe(String(total));
    expect(run.outputs["backup-name"]).toBe(names.at(-1));
    expect(Buffer.byteLength(Object.values(run.outputs).join(""))).toBeLessThan(oneMegabyte);

    expect(run.summary).toContain("### app-backup: 3,000 backup(s) of shop");
    expect(run.summary).toContain("… and 2,900 more, older");
    const rows = run.summary.split("\n").filter((line) => line.startsWith("| shop_"));
    expect(rows).toHaveLength(100);
    expect(rows[0]).toContain(names.at(-1));
    expect(Buffer.byteLength(run.summary)).toBeLessThan(oneMegabyte);
  });

  it("shows list-limit of them, and says what list-limit takes when it is not a count", async () => {
    const run = await runAction({ workspace, inputs: { operation: "list", "app-name": "shop", storage: "file:./backups", "list-limit": "1000" } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.backups!)).toHaveLength(1000);
    expect(run.summary).toContain("… and 2,000 more, older");
    expect(Buffer.byteLength(Object.values(run.outputs).join(""))).toBeLessThan(oneMegabyte);

    const wrong = await runAction({ workspace, inputs: { operation: "list", "app-name": "shop", storage: "file:./backups", "list-limit": "all" } });
    expect(wrong.code).toBe(2);
    expect(wrong.errors).toEqual(['Input list-limit is "all", which is not a whole number from 1 to 1000.\nSet list-limit to how many of the newest backups to show (default 100).']);
  });
});
