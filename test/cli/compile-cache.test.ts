import { chmod, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileCacheFolderName } from "../../cli/compile-cache.js";
import { removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";
import { runCli } from "../support/cli.js";

afterAll(removeTemporaryFolders);

/** A temp folder of its own for one run of the CLI, and an empty local container. */
async function setUp() {
  const dir = await temporaryFolder("compile-cache-");
  const tmp = path.join(dir, "tmp");
  await mkdir(tmp);
  return { dir, tmp, list: ["list", "--app", "shop", "--storage", `file:${path.join(dir, "backups")}`] };
}

describe("the compile cache", () => {
  it("keeps the CLI's compiled code in a folder of the user's own under the temp folder", async () => {
    const { tmp, list } = await setUp();
    const run = await runCli(list, { env: { TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(0);
    const folder = path.join(tmp, compileCacheFolderName());
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    expect(await readdir(folder)).not.toEqual([]);
  });

  it("is not used from a folder others can write to", async () => {
    const { tmp, list } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    await mkdir(folder);
    await chmod(folder, 0o777);
    const run = await runCli(list, { env: { TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("No backups of shop");
    expect(await readdir(folder)).toEqual([]);
  });

  it("is left out when the temp folder cannot hold it", async () => {
    const { dir, list } = await setUp();
    const notAFolder = path.join(dir, "file");
    await writeFile(notAFolder, "");
    const run = await runCli(list, { env: { TMPDIR: notAFolder } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("No backups of shop");
    expect(run.stderr).toBe("");
  });
});
