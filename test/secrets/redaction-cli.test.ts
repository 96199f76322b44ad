import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { connectionStringForms, database, leaksIn, passwordArb } from "../support/connection-string-forms.js";

const seed = Number(process.env.FC_SEED ?? 20261206);

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), "redaction-cli-"));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Hand-picked passwords that broke naive redaction, then some drawn from the hostile alphabet. */
const passwords = [
  'p@ss;w"o\'rd=\\%/:, 9',
  '"ab""cd;tail',
  "x@y@z@host",
  ...fc.sample(passwordArb.filter((password) => password.length >= 12), { seed, numRuns: connectionStringForms.length }),
];

describe("app-backup backup with a hostile password and an unreachable database", () => {
  for (const [index, form] of connectionStringForms.entries()) {
    const password = passwords[index % passwords.length]!;
    const fromEnvironment = index % 2 === 1;
    it(`${form.name}${fromEnvironment ? ", from ${env:VAR}" : ""}: stdout, stderr, the log and the manifest hold no telltale of ${JSON.stringify(password)}`, async () => {
      const port = await freePort();
      // The same runs with a harmless password: text that is there too (times, words, paths) is no leak.
      const reference = (await backupRuns(`reference-${index}`, form.build("Q", { host: "127.0.0.1", port }))).map(([, text]) => text).join("\n");
      const connectionString = form.build(password, { host: "127.0.0.1", port });
      for (const [where, text] of await backupRuns(`app-${index}`, connectionString)) {
        expect(leaksIn(text, password).filter((telltale) => !reference.includes(telltale)), `${where}: ${text}`).toEqual([]);
        expect(text, where).not.toContain(form.credential(password));
      }
    });

    /** Two failing backups (text and --json output); what each wrote to stdout and stderr, and the logs and manifests in the container. */
    async function backupRuns(folder: string, connectionString: string): Promise<Array<[string, string]>> {
      const dir = path.join(workDir, folder);
      await mkdir(path.join(dir, "home"), { recursive: true });
      await writeFile(path.join(dir, "home/index.html"), "<h1>shop</h1>");
      const config = {
        name: "shop",
        home: "./home",
        connectionStrings: { MainDb: { type: form.type, value: fromEnvironment ? "${env:MAIN_DB}" : connectionString } },
        backup: { storage: "file:./backups", databases: [{ connectionStringName: "MainDb", databaseType: form.databaseType }] },
      };
      await writeFile(path.join(dir, "app-backup.json"), JSON.stringify(config, null, 2));
      const outputs: Array<[string, string]> = [];
      for (const json of [false, true]) {
        const run = await runCli(["backup", "--config", path.join(dir, "app-backup.json"), ...(json ? ["--json"] : [])], {
          env: { MAIN_DB: connectionString },
        });
        expect(run.code, run.stderr).not.toBe(0);
        expect(run.stderr).toContain(database);
        outputs.push([`stdout${json ? " --json" : ""}`, run.stdout], [`stderr${json ? " --json" : ""}`, run.stderr]);
      }
      const files = await readdir(path.join(dir, "backups"));
      expect(files.filter((name) => name.endsWith(".log"))).toHaveLength(2);
      expect(files.filter((name) => name.endsWith(".xml"))).toHaveLength(2);
      for (const name of files) {
        const text = await readFile(path.join(dir, "backups", name), "utf8");
        expect(text, name).toContain("Failed");
        outputs.push([name, text]);
      }
      return outputs;
    }
  }
});
