import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runBackup } from "../../core/backup/backup.js";
import { AppBackupError } from "../../core/errors.js";
import { runRestore } from "../../core/restore/restore.js";
import { leftovers, treeFacts } from "../support/test-app.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { faultKinds, startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.js";
import { directStore, freshContainer, makeHome, optionsFor, useFaultEnv } from "../support/fault-setup.js";

let azurite: Azurite;
let proxy: FaultProxy;
let source: string;
let container: string;
let backupName: string;

beforeAll(async () => {
  useFaultEnv();
  azurite = await startAzurite();
  proxy = await startFaultProxy(azurite);
  source = await makeHome();
  container = freshContainer("rf");
  const result = await runBackup(optionsFor(source, azurite.connectionString, container), { store: directStore(azurite, container) });
  expect(result.status).toBe("Succeeded");
  backupName = result.name;
});
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});
beforeEach(() => proxy.reset());

/** A home that differs from the backup: one file changed, one added, one removed. */
async function targetHome(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "faults-target-"));
  const home = path.join(dir, "home");
  execFileSync("cp", ["-a", source, home]);
  await writeFile(path.join(home, "site/wwwroot/index.html"), "changed since the backup\n");
  await writeFile(path.join(home, "site/wwwroot/new.txt"), "added since the backup\n");
  await rm(path.join(home, "site/wwwroot/css/site.css"));
  return home;
}

/** Every read a restore makes of the container. */
const restoreReads: Array<[string, Omit<FaultRule, "kind">]> = [
  ["manifest", { method: "GET", blobSuffix: ".xml" }],
  ["zip size", { method: "HEAD", blobSuffix: ".zip" }],
  ["first zip range", { method: "GET", blobSuffix: ".zip", nth: 1 }],
  ["second zip range", { method: "GET", blobSuffix: ".zip", nth: 2 }],
];

describe.each(restoreReads)("a restore whose read of the %s meets", (_read, pattern) => {
  it.each(faultKinds.map((kind) => [kind]))("%s", async (kind) => {
    const home = await targetHome();
    const before = treeFacts(home);
    proxy.inject({ ...pattern, kind });

    const outcome = await runRestore(optionsFor(home, proxy.connectionString, container), { backup: backupName }).then(
      (result) => result,
      (error: unknown) => error as Error,
    );

    expect(proxy.fired, "the fault was never met").toBe(1);
    expect(leftovers(home)).toEqual([]);
    if (outcome instanceof Error) {
      expect(outcome, String(outcome)).toBeInstanceOf(AppBackupError);
      expect(kind, `${kind} should have been retried: ${outcome.message}`).toBe("403");
      expect(treeFacts(home), "a failed restore changed the home").toEqual(before);
    } else {
      expect(kind).not.toBe("403");
      expect(outcome.status).toBe("Succeeded");
      expect(treeFacts(home)).toEqual(treeFacts(source));
    }
  });
});
