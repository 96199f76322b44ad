import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { metaEntry, plantCraftedBackup } from "../support/crafted-backup.js";
import { leftovers, makeApp, treeFacts } from "../support/test-app.js";

describe("restore and verify stop at a hostile manifest", () => {
  it("a declared count of billions ends in BACKUP_CORRUPT, not a RangeError, and nothing changes", async () => {
    const app = await makeApp();
    await plantCraftedBackup(app, "counted", [metaEntry, { name: "fs/site/a.txt", mode: 0o100644, content: { bytes: Buffer.from("a") } }], (xml) =>
      xml.replace('count="2"', 'count="4000000000"'),
    );
    const before = treeFacts(app.home);
    for (const command of ["restore", "verify"]) {
      const run = await runCli([command, "counted", "--config", app.config, "--json"]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.json).toMatchObject({ status: "Error", error: { code: "BACKUP_CORRUPT" } });
      expect(run.stderr).toMatch(/declares 4000000000 entries but lists 2.*nothing was changed/);
      expect(run.stderr).not.toMatch(/RangeError|TypeError|\n\s+at /);
    }
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);
  });
});
