import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "./backup.js";
import { metaFromOptions, metaToXml } from "../format/meta.js";
import { parseMeta } from "../format/meta-parse.js";
import { redactorFor } from "./redactor.js";
import { resolveConfig } from "../config/load.js";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import { freePort } from "../../test/support/ports.js";
import { connectionStringForms, database, leaksIn, passwordArb, type ConnectionStringForm } from "../../test/support/connection-string-forms.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check prints the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);
const server = { host: "db.example.net", port: 5432 };
/** A password that shares nothing with the hostile ones: what the output must look like for every password. */
const neutralPassword = "Q";

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), "redaction-property-"));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function optionsWith(form: ConnectionStringForm, connectionString: string, home = "/srv/shop", storage: unknown = "file:./backups"): AppBackupOptions {
  return resolveConfig(
    {
      name: "shop",
      home,
      connectionStrings: { MainDb: { type: form.type, value: connectionString } },
      backup: { storage, databases: [{ connectionStringName: "MainDb", databaseType: form.databaseType }] },
    },
    { baseDir: workDir ?? "/", env: {} },
  );
}

/** Everything user-facing built from a connection string: redacted text, and the `meta` a backup stores (never redacted afterwards). */
function outputsFor(form: ConnectionStringForm, password: string): Record<string, string> {
  const connectionString = form.build(password, server);
  expect(form.parse(connectionString).password, `${form.name} is built the way its driver reads it`).toBe(password);
  const options = optionsWith(form, connectionString);
  const redactor = redactorFor(options);
  const error = new AppBackupError("DATABASE", `Cannot connect with "${connectionString}": connect ECONNREFUSED`, `Check ${connectionString} and retry.`);
  const meta = metaToXml(metaFromOptions(options, () => undefined));
  return {
    connectionString: redactor.redact(connectionString),
    error: redactor.redact(error.describe()),
    json: redactor.redact(JSON.stringify({ error: connectionString })),
    meta,
    metaValue: parseMeta(meta).connectionStrings.MainDb!.value,
  };
}

describe("redaction of passwords drawn from a hostile alphabet", () => {
  for (const form of connectionStringForms) {
    it(`${form.name}: masks the password whole, the same way for every password, and keeps the rest`, () => {
      const neutral = outputsFor(form, neutralPassword);
      fc.assert(
        fc.property(passwordArb, (password) => {
          const outputs = outputsFor(form, password);
          // A telltale that is also in the text around the password (a user "shop_user", say) proves nothing.
          fc.pre(Object.values(neutral).every((text) => leaksIn(text, password).length === 0));
          for (const [what, text] of Object.entries(outputs)) {
            expect(leaksIn(text, password), `${what}: ${text}`).toEqual([]);
            expect(text, `${what} is the same whatever the password`).toBe(neutral[what]);
          }
          expect(form.parse(outputs.connectionString).password).toBe("***");
          expect(form.parse(outputs.metaValue).password).toBe("***");
          for (const part of [...form.kept, server.host]) {
            for (const what of ["connectionString", "error", "metaValue"]) expect(outputs[what], `${what} keeps ${part}`).toContain(part);
          }
        }),
        { seed, numRuns: 150 },
      );
    });
  }

  it("a backup whose database is unreachable writes no telltale of the password to its manifest or log", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...connectionStringForms), passwordArb, async (form, password) => {
        const closed = { host: "127.0.0.1", port: await freePort() };
        run++;
        const written = await failedBackupFiles(form, form.build(password, closed), `hostile-${run}`);
        // The same backup with a harmless password: text that is there too (times, paths, words) is no leak.
        const reference = [...(await failedBackupFiles(form, form.build(neutralPassword, closed), `neutral-${run}`)).values()].join("\n");
        for (const [kind, text] of written) {
          expect(leaksIn(text, password).filter((telltale) => !reference.includes(telltale)), `${kind}: ${text}`).toEqual([]);
          expect(text, kind).not.toContain(form.credential(password));
          expect(text, kind).toContain(database);
        }
      }),
      { seed, numRuns: 40 },
    );
  });
});

/** Runs a backup that fails to reach its database; returns its manifest and log, times and folders made alike. */
async function failedBackupFiles(form: ConnectionStringForm, connectionString: string, folder: string): Promise<Map<string, string>> {
  const dir = path.join(workDir, folder);
  const home = path.join(dir, "home");
  await mkdir(home, { recursive: true });
  await writeFile(path.join(home, "index.html"), "<h1>shop</h1>");
  const result = await runBackup(optionsWith(form, connectionString, home, { path: path.join(dir, "backups") }));
  expect(result.status).toBe("Failed");
  const files = new Map<string, string>();
  for (const name of await readdir(path.join(dir, "backups"))) {
    const text = await readFile(path.join(dir, "backups", name), "utf8");
    files.set(
      path.extname(name),
      text
        .split(dir)
        .join("<dir>")
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
        .replace(/_\d{14}/g, "_<time>")
        // The manifest's metadata record holds its text percent-encoded, and names the file it belongs to by numbers no two runs share.
        .split(encodeURIComponent(dir))
        .join("<dir>")
        .replace(/"(file|modifiedNs)":"\d+"/g, '"$1":"<n>"'),
    );
  }
  expect([...files.keys()].sort()).toEqual([".json", ".log", ".xml"]);
  return files;
}
