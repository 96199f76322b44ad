import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { optionsFromInputs } from "../action/src/app-options.js";
import { readInputs, type InputName } from "../action/src/inputs.js";
import { appInputsOf } from "./app-args.js";
import { settingsOf } from "./settings-file.js";

/** What the Action records for its settings-file input, or the error it reports. */
async function readByAction(dir: string, file: string): Promise<Record<string, string> | string> {
  const values: Partial<Record<InputName, string>> = { "app-name": "shop", home: "site", storage: "file:b", "settings-file": file };
  try {
    return (await optionsFromInputs(readInputs((name) => values[name] ?? ""), { workspace: dir, env: {} })).app.settings;
  } catch (error) {
    return (error as { describe(): string }).describe();
  }
}

/** What a Pulumi resource records for its settingsFile input, or the error it reports. */
async function readByResource(file: string): Promise<Record<string, string> | string> {
  try {
    // The error a resource reports is the one reading the file gives; a file that reads is followed through the resource's inputs.
    await settingsOf(file);
  } catch (error) {
    return (error as Error).message;
  }
  const settings = appInputsOf({ name: "shop", home: "site", storage: "file:b", settingsFile: file }).settings as pulumi.Output<Record<string, string>>;
  return new Promise((resolve) => settings.apply(resolve));
}

describe("a settings file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "settings-both-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["a mapping", "map.yml", "WEBSITE_TIME_ZONE: UTC\nWORKERS: 4\nFEATURE_X: true\nEMPTY: ''\n", { WEBSITE_TIME_ZONE: "UTC", WORKERS: "4", FEATURE_X: "true", EMPTY: "" }],
    ["the az list", "az.json", JSON.stringify([{ name: "GREETING", value: "hi", slotSetting: false }, { name: "WORKERS", value: 4 }]), { GREETING: "hi", WORKERS: "4" }],
    ["a null value in the az list", "az-null.json", JSON.stringify([{ name: "GREETING", value: "hi" }, { name: "EMPTY", value: null }]), "the value of EMPTY is not a string, number or boolean"],
    ["a null value in a mapping", "null.yml", "GREETING: hi\nEMPTY:\n", "the value of EMPTY is not a string, number or boolean"],
    ["an item without a name", "nameless.json", JSON.stringify([{ name: "GREETING", value: "hi" }, { value: "no name" }]), "item 2 has no setting name"],
    ["an item that is not an object", "scalar-item.json", JSON.stringify([{ name: "GREETING", value: "hi" }, "WORKERS=4"]), "item 2 is not {name, value}"],
    ["an empty file", "empty.yml", "", "it is neither a mapping of names to values nor a list of {name, value}"],
  ])("reads %s the same in the Action and in the Pulumi resources", async (_what, name, text, expected) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    const byAction = await readByAction(dir, name);
    const byResource = await readByResource(file);
    expect(byResource).toEqual(byAction);
    if (typeof expected === "string") {
      expect(byAction).toBe(`The settings file ${file} is invalid: ${expected}.\nWrite a mapping (NAME: value), or save the output of \`az webapp config appsettings list\`.`);
    } else {
      expect(byAction).toEqual(expected);
    }
  });
});
