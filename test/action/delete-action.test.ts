import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeWorkspace, removeTemporaryFolders } from "../support/action-workspace.js";
import { runAction } from "../support/run-action.js";

afterAll(async () => {
  await removeTemporaryFolders();
});

describe("operation delete", () => {
  it("deletes the named backup's manifest, zip and log, and refuses a name outside the app's scheme or a backup-name too few", async () => {
    const { workspace } = await makeWorkspace();
    const app = { "app-name": "shop", home: "home", storage: "file:./backups" };
    const made = await runAction({ workspace, inputs: { ...app, "backup-name": "shop_before-deploy" } });
    expect(made.code).toBe(0);
    const objects = () => ["xml", "zip", "log"].filter((ext) => existsSync(path.join(workspace, "backups", `shop_before-deploy.${ext}`)));
    expect(objects()).toEqual(["xml", "zip", "log"]);

    const foreign = await runAction({ workspace, inputs: { ...app, home: "", operation: "delete", "backup-name": "before-deploy" } });
    expect(foreign.code).toBe(2);
    expect(foreign.errors.join("\n")).toContain('Backup "before-deploy" is not a name of shop\'s backups: they are named shop_…');
    const unnamed = await runAction({ workspace, inputs: { ...app, home: "", operation: "delete" } });
    expect(unnamed.errors.join("\n")).toContain("Input backup-name is required for delete.");
    expect(objects()).toEqual(["xml", "zip", "log"]);

    const deleted = await runAction({ workspace, inputs: { ...app, home: "", operation: "delete", "backup-name": "shop_before-deploy" } });
    expect(deleted.errors).toEqual([]);
    expect(deleted.code).toBe(0);
    expect(deleted.outputs).toMatchObject({ "backup-name": "shop_before-deploy", status: "Deleted" });
    expect(objects()).toEqual([]);
  });
});
