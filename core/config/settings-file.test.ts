import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSettingsFile } from "./settings-file.js";
import { rejectedAppBackupError } from "../../test/support/app-backup-error.js";

const failure = (read: () => Promise<unknown>) => rejectedAppBackupError(read, "expected the settings file to be rejected");

describe("readSettingsFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "settings-file-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads a mapping and the az list, every value as text", async () => {
    await writeFile(path.join(dir, "map.yml"), "A: text\nB: 4\nC: false\nD: ''\n");
    expect(await readSettingsFile(path.join(dir, "map.yml"))).toEqual({ A: "text", B: "4", C: "false", D: "" });
    await writeFile(path.join(dir, "az.json"), JSON.stringify([{ name: "A", value: "text", slotSetting: true }, { name: "B", value: 4 }]));
    expect(await readSettingsFile(path.join(dir, "az.json"))).toEqual({ A: "text", B: "4" });
  });

  it("rejects a null value, counting items from 1", async () => {
    await writeFile(path.join(dir, "null.json"), JSON.stringify([{ name: "A", value: "x" }, { name: "B", value: null }]));
    const error = await failure(() => readSettingsFile(path.join(dir, "null.json")));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(`The settings file ${dir}/null.json is invalid: the value of B is not a string, number or boolean.`);
    await writeFile(path.join(dir, "nameless.json"), JSON.stringify([{ name: "A", value: "x" }, { name: "", value: "y" }]));
    expect((await failure(() => readSettingsFile(path.join(dir, "nameless.json")))).message).toContain("item 2 has no setting name");
  });

  it("rejects a file that is empty or holds neither a mapping nor a list", async () => {
    for (const text of ["", "just text\n", "42\n"]) {
      await writeFile(path.join(dir, "scalar.yml"), text);
      expect((await failure(() => readSettingsFile(path.join(dir, "scalar.yml")))).message).toContain("it is neither a mapping of names to values nor a list of {name, value}");
    }
  });

  it("says a file is missing, and does not quote a line that does not parse", async () => {
    const missing = await failure(() => readSettingsFile(path.join(dir, "missing.yml")));
    expect(missing.code).toBe("CONFIG_UNREADABLE");
    expect(missing.message).toBe(`Cannot read the settings file ${dir}/missing.yml: it does not exist.`);
    await writeFile(path.join(dir, "broken.yml"), 'A: x\nAPI_KEY: "Sekr3t-Pa55\n');
    const broken = await failure(() => readSettingsFile(path.join(dir, "broken.yml")));
    expect(broken.message).toMatch(/is invalid: it is not valid YAML or JSON: .* at line \d+, column \d+\.$/);
    expect(broken.describe()).not.toContain("Sekr3t");
  });
});
