import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBackup } from "../../core/backup/backup.js";
import { loadConfig } from "../../core/config/load.js";
import { makeWorkspace, removeTemporaryFolders } from "../support/action-workspace.js";
import { runAction } from "../support/run-action.js";

afterAll(removeTemporaryFolders);

const dayMs = 24 * 3_600_000;

/** An app whose app-backup.yml declares an hourly schedule with a one-day retention. */
async function scheduledApp() {
  const { workspace, home } = await makeWorkspace();
  await writeFile(
    path.join(workspace, "app-backup.yml"),
    [
      "name: shop",
      "home: ./home",
      "backup:",
      "  storage: file:./backups",
      "  schedule:",
      "    frequencyInterval: 1",
      "    frequencyUnit: Hour",
      "    startTime: 2026-01-01T00:00:00Z",
      "    retentionPeriodInDays: 1",
      "    keepAtLeastOneBackup: true",
      "",
    ].join("\n"),
  );
  return { workspace, home, backups: path.join(workspace, "backups") };
}

describe("operations configure, run-scheduled and prune", () => {
  it("stores the schedule, backs up once when due, and not again within the hour", async () => {
    const { workspace, backups } = await scheduledApp();
    const inputs = { config: "app-backup.yml" };

    const unconfigured = await runAction({ workspace, inputs: { ...inputs, operation: "run-scheduled" } });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.outputs["exit-code"]).toBe("2");
    expect(unconfigured.errors[0]).toMatch(/^No backup configuration of shop is stored in .*\nStore it first with `operation: configure`, or with the Pulumi resource/);

    const configure = await runAction({ workspace, inputs: { ...inputs, operation: "configure" } });
    expect(configure.errors).toEqual([]);
    expect(configure.code).toBe(0);
    expect(configure.outputs.status).toBe("Created");
    expect(configure.summary).toContain("configuration of shop stored");
    expect(configure.summary).toMatch(/schedule: +every hour from 2026-01-01T00:00:00/i);
    const again = await runAction({ workspace, inputs: { ...inputs, operation: "configure" } });
    expect(again.outputs.status).toBe("Unchanged");

    const due = await runAction({ workspace, inputs: { ...inputs, operation: "run-scheduled" } });
    expect(due.errors).toEqual([]);
    expect(due.code).toBe(0);
    expect(due.outputs.due).toBe("true");
    expect(due.outputs.status).toBe("Succeeded");
    expect(due.outputs.pruned).toBe("[]");
    const name = due.outputs["backup-name"]!;
    expect(name).toMatch(/^shop_\d{14}$/);
    const manifest = await readFile(path.join(backups, `${name}.xml`), "utf8");
    expect(manifest).toContain("<Trigger>Scheduled</Trigger>");
    expect(manifest).toMatch(/<Item key="scheduledSlot" value="\d{4}-\d\d-\d\dT\d\d:00:00\.000Z"/);
    expect(manifest).toContain('<Item key="runUrl" value="https://github.com/contoso/shop/actions/runs/1234567890"');
    expect(due.summary).toContain("scheduled run of shop");
    expect(due.summary).toContain(`backup ${name} Succeeded`);

    const notDue = await runAction({ workspace, inputs: { ...inputs, operation: "run-scheduled" } });
    expect(notDue.code).toBe(0);
    expect(notDue.outputs).toMatchObject({ due: "false", status: "NotDue" });
    expect((await readdir(backups)).filter((f) => f.endsWith(".zip"))).toEqual([`${name}.zip`]);
  });

  it("prunes scheduled backups past retention, after a dry run that deletes nothing; on-demand backups stay", async () => {
    const { workspace, backups } = await scheduledApp();
    const inputs = { config: "app-backup.yml" };
    expect((await runAction({ workspace, inputs: { ...inputs, operation: "configure" } })).code).toBe(0);
    // Backups from earlier days, made by the engine itself at those times.
    const options = await loadConfig(path.join(workspace, "app-backup.yml"), {});
    const now = Date.now();
    const scheduledAt = async (ageMs: number) => (await runBackup(options, { trigger: "Scheduled", now: new Date(now - ageMs) })).name;
    const old = [await scheduledAt(3 * dayMs), await scheduledAt(2 * dayMs)];
    const recent = await scheduledAt(3_600_000);
    await runBackup(options, { now: new Date(now - 5 * dayMs), name: "shop_manual" });
    const zips = async () => (await readdir(backups)).filter((f) => f.endsWith(".zip")).sort();
    expect(await zips()).toHaveLength(4);

    const dryRun = await runAction({ workspace, inputs: { ...inputs, operation: "prune", "dry-run": "true" } });
    expect(dryRun.errors).toEqual([]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.outputs.status).toBe("DryRun");
    expect(JSON.parse(dryRun.outputs.pruned!).sort()).toEqual([...old].sort());
    expect(dryRun.summary).toMatch(new RegExp(`\\| ${old[0]} \\| Scheduled \\| Succeeded \\| [^|]+ \\| would delete \\|`));
    expect(dryRun.summary).toMatch(new RegExp(`\\| ${recent} \\| Scheduled \\| Succeeded \\| [^|]+ \\| keep \\|`));
    expect(dryRun.summary).toMatch(/\| shop_manual \| OnDemand \| Succeeded \| [^|]+ \| keep \|/);
    expect(await zips()).toHaveLength(4);

    const prune = await runAction({ workspace, inputs: { ...inputs, operation: "prune" } });
    expect(prune.errors).toEqual([]);
    expect(prune.code).toBe(0);
    expect(prune.outputs.status).toBe("Succeeded");
    expect(JSON.parse(prune.outputs.pruned!).sort()).toEqual([...old].sort());
    expect(await zips()).toEqual([`${recent}.zip`, "shop_manual.zip"].sort());

    // run-scheduled applies the same retention after its backup.
    const older = await scheduledAt(4 * dayMs);
    const scheduled = await runAction({ workspace, inputs: { ...inputs, operation: "run-scheduled" } });
    expect(scheduled.code).toBe(0);
    expect(JSON.parse(scheduled.outputs.pruned!)).toEqual([older]);
    expect(scheduled.summary).toContain(`- ${older}: `);
    expect(await zips()).toEqual([`${recent}.zip`, `${scheduled.outputs["backup-name"]}.zip`, "shop_manual.zip"].sort());
  });
});
