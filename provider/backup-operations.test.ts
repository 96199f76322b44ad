import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../test/support/ports.js";
import { backupOperations as operations } from "./backup-operations.js";
import type { BackupInputs } from "./types.js";
import { containerObjects } from "../test/support/container-files.js";

let workDir: string;
const envNames: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), "provider-backup-"));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const name of envNames.splice(0)) delete process.env[name];
});

function setEnv(name: string, value: string): void {
  envNames.push(name);
  process.env[name] = value;
}

let counter = 0;
async function makeApp() {
  const dir = path.join(workDir, `app${++counter}`);
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n".repeat(50));
  return { dir, home, container: path.join(dir, "backups") };
}

async function checked(news: Record<string, unknown>): Promise<BackupInputs> {
  const result = await operations.check({} as BackupInputs, news as unknown as BackupInputs);
  expect(result.failures).toBeUndefined();
  return result.inputs!;
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: Error) => error,
  );
}

describe("Backup check", () => {
  it("defaults deleteOnDestroy to false and rejects triggers that are not a list", async () => {
    const inputs = await checked({ name: "shop", home: "/srv/shop", storage: "file:/tmp/backups", triggers: ["v1"] });
    expect(inputs).toEqual({
      name: "shop",
      home: "/srv/shop",
      storage: "file:/tmp/backups",
      settings: {},
      connectionStrings: {},
      databases: [],
      triggers: ["v1"],
      deleteOnDestroy: false,
    });
    const result = await operations.check({} as BackupInputs, { ...inputs, triggers: "v1" } as unknown as BackupInputs);
    expect(result.failures).toEqual([{ property: "triggers", reason: "triggers must be a list of values, e.g. [releaseVersion]." }]);
  });
});

describe("Backup lifecycle in a local container", () => {
  it("create takes a backup and outputs its name, addresses, size, status and time", async () => {
    const app = await makeApp();
    const inputs = await checked({
      name: "shop",
      home: app.home,
      storage: `file:${app.container}`,
      triggers: ["1.0.0"],
      origin: { source: "pulumi", project: "shop-infra", stack: "prod", resource: "before-release" },
    });
    const { id, outs } = await operations.create(inputs);

    const name = outs.backupName;
    expect(name).toMatch(/^shop_\d{14}$/);
    expect(id).toBe(`file://${app.container}/${name}.xml`);
    expect((await containerObjects(app.container))).toEqual([`${name}.log`, `${name}.xml`, `${name}.zip`]);
    expect(outs).toEqual({
      ...inputs,
      sftp: null,
      filter: null,
      maxSize: null,
      databaseMaxSize: null,
      backupName: name,
      status: "Succeeded",
      zipUrl: `file://${app.container}/${name}.zip`,
      manifestUrl: id,
      logUrl: `file://${app.container}/${name}.log`,
      sizeBytes: (await readFile(path.join(app.container, `${name}.zip`))).length,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      storageLocation: app.container,
      warnings: [],
    });
    const manifest = await readFile(path.join(app.container, `${name}.xml`), "utf8");
    expect(manifest).toContain("<Trigger>OnDemand</Trigger>");
    expect(manifest).toContain("shop-infra");
    expect(manifest).toContain("before-release");
  });

  it("diff: new triggers take a new backup, deleteOnDestroy is updated in place, the origin alone changes nothing", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: app.home, storage: `file:${app.container}`, triggers: ["1.0.0"], origin: { stack: "dev" } });
    const { id, outs } = await operations.create(inputs);

    expect(await operations.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, triggers: ["1.0.1"] })).toEqual({ changes: true, replaces: ["triggers"] });
    expect(await operations.diff(id, outs, { ...inputs, deleteOnDestroy: true })).toEqual({ changes: true, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, home: `${app.home}/site` })).toEqual({ changes: true, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, origin: { stack: "prod" } })).toEqual({ changes: false, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, storage: `file:${app.dir}/other` })).toEqual({ changes: true, replaces: ["storage"] });

    const updated = await operations.update(id, outs, { ...inputs, deleteOnDestroy: true });
    expect(updated.outs).toEqual({ ...outs, deleteOnDestroy: true });
  });

  it("read returns the recorded state while the backup exists, and nothing once its zip or manifest is gone", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: app.home, storage: `file:${app.container}` });
    const { id, outs } = await operations.create(inputs);

    expect(await operations.read(id, outs)).toEqual({ id, props: outs, inputs });
    await rm(path.join(app.container, `${outs.backupName}.zip`));
    expect(await operations.read(id, outs)).toEqual({});
    await rm(path.join(app.container, `${outs.backupName}.xml`));
    expect(await operations.read(id, outs)).toEqual({});
  });

  it("delete keeps the backup unless deleteOnDestroy is set", async () => {
    const app = await makeApp();
    const kept = await operations.create(await checked({ name: "shop", home: app.home, storage: `file:${app.container}` }));
    await operations.delete(kept.id, kept.outs);
    expect(await containerObjects(app.container)).toHaveLength(3);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // backup names carry the second they were taken
    const removed = await operations.create(await checked({ name: "shop", home: app.home, storage: `file:${app.container}`, deleteOnDestroy: true }));
    expect(await containerObjects(app.container)).toHaveLength(6);
    await operations.delete(removed.id, removed.outs);
    expect((await containerObjects(app.container))).toEqual([`${kept.outs.backupName}.log`, `${kept.outs.backupName}.xml`, `${kept.outs.backupName}.zip`]);
  });
});

describe("Backup failures", () => {
  it("a missing home fails with what is wrong and which input to fix", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: `${app.dir}/missing`, storage: `file:${app.container}` });

    const failure = await failureOf(operations.create(inputs));

    expect(failure.message).toBe(
      `The app's home ${app.dir}/missing does not exist.\n` +
        `Set "home" in the inputs of the app-backup Backup to the folder that holds the app's content (Azure's D:\\home).`,
    );
  });

  it("a home from an empty variable fails naming the input and the variable, and backs up nothing", async () => {
    const app = await makeApp();
    setEnv("TEST_BACKUP_SITE_DIR", "");
    const news = { name: "shop", home: `${app.home}/\${env:TEST_BACKUP_SITE_DIR}`, storage: `file:${app.container}` };

    const failure = await failureOf(operations.check({} as BackupInputs, news as unknown as BackupInputs));

    expect(failure.message).toContain("- home: refers to the environment variable TEST_BACKUP_SITE_DIR, which is empty.");
    expect(await readdir(app.container).catch(() => [])).toEqual([]);
  });

  it("an unreachable database fails with the backup's log, without the password, and leaves a Failed record and no zip", async () => {
    const app = await makeApp();
    const password = "Unreachable-Pa55word-4711";
    setEnv("TEST_BACKUP_DB_PASSWORD", password);
    const port = await freePort();
    const inputs = await checked({
      name: "shop",
      home: app.home,
      storage: `file:${app.container}`,
      connectionStrings: {
        MainDb: { type: "PostgreSQL", value: `Host=127.0.0.1;Port=${port};Database=shop;Username=app;Password=\${env:TEST_BACKUP_DB_PASSWORD};Timeout=3` },
      },
      databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
    });

    const failure = await failureOf(operations.create(inputs));

    const files = await containerObjects(app.container);
    const name = files.find((file) => file.endsWith(".log"))!.replace(/\.log$/, "");
    expect(files.sort()).toEqual([`${name}.log`, `${name}.xml`]);
    expect(failure.message).toMatch(new RegExp(`^The backup ${name} of shop failed: The dump of database MainDb \\(.*\\) failed: `));
    expect(failure.message).toContain(`Its log, file://${app.container}/${name}.log:\n`);
    expect(failure.message).toMatch(/INFO +Dumping MainDb \(PostgreSql, /);
    expect(failure.message).toMatch(/ERROR +Backup failed: /);
    expect(failure.message).toContain("The failed backup stays in");
    expect(failure.message).not.toContain(password);
    expect(await readFile(path.join(app.container, `${name}.xml`), "utf8")).toContain("<Status>Failed</Status>");
  });
});

describe("Backup of an app on another machine", () => {
  it("takes its snapshot over SFTP with the sftp login, and of an App Service app through Kudu", async () => {
    const { startSshd } = await import("../test/support/sshd.js");
    const { startKuduStandIn } = await import("../test/support/kudu-stand-in.js");
    const sshd = await startSshd();
    const sftpApp = await makeApp();
    const knownHosts = path.join(sftpApp.dir, "known_hosts");
    await writeFile(knownHosts, `${sshd.hostKeyLine}\n`);
    const kuduApp = await makeApp();
    const kudu = await startKuduStandIn({ home: kuduApp.home, credentials: { user: "$shop", password: "publish-pw-7a1f03" } });
    try {
      setEnv("SHOP_SSH_KEY", sshd.clientKeyText);
      const overSftp = await operations.create(
        await checked({
          name: "shop",
          home: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${sftpApp.home}`,
          sftp: { privateKey: "${env:SHOP_SSH_KEY}", knownHosts },
          storage: `file:${sftpApp.container}`,
        }),
      );
      expect(overSftp.outs).toMatchObject({ status: "Succeeded", home: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${sftpApp.home}` });
      expect(await containerObjects(sftpApp.container)).toHaveLength(3);

      setEnv("SHOP_PUBLISH", "publish-pw-7a1f03");
      const throughKudu = await operations.create(
        await checked({
          name: "shop",
          home: { appService: kudu.scmUrl, publishingUser: "$shop", publishingPassword: "${env:SHOP_PUBLISH}" },
          storage: `file:${kuduApp.container}`,
        }),
      );
      expect(throughKudu.outs.status).toBe("Succeeded");
      expect(JSON.stringify(throughKudu.outs)).not.toContain("publish-pw-7a1f03");
    } finally {
      await kudu.stop();
      await sshd.stop();
    }
  });
});
