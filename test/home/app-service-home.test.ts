import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fileSink } from "../../core/archive/file-sink.js";
import type { ArchiveEntry } from "../../core/archive/types.js";
import { ZipWriter } from "../../core/archive/zip-writer.js";
import { AppBackupError } from "../../core/errors.js";
import { contentEntryName } from "../../core/format/zip-layout.js";
import { PathFilter } from "../../core/plan/filter.js";
import { spoolHome } from "../../core/plan/planned-entries.js";
import type { AppServiceAddress } from "../../core/home/app-service/address.js";
import { type AppServiceHomeAccess, openAppServiceHomeAccess, readAppServiceSettings, writeAppServiceSettings } from "../../core/home/app-service/app-service-home.js";
import { JOURNAL_PATH, stagedZipPath } from "../../core/home/app-service/app-service-restore.js";
import type { RemoteRestoreJournal } from "../../core/home/home.js";
import type { AppServiceHomeSpec } from "../../core/home/remote-home.js";
import { type KuduStandIn, startKuduStandIn } from "../support/kudu-stand-in.js";

const password = "Pw-publish-9d41c7e2b8a6";
const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-token-for-app-service.c2ln";
const fast = { attempts: 2, baseDelayMs: 1, maxDelayMs: 1000 };
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };

let root: string;
let standIn: KuduStandIn;
let home: string;
let opened: AppServiceHomeAccess[] = [];

function address(): AppServiceAddress {
  return { name: "contoso", scmUrl: standIn.scmUrl, resourceId: standIn.resourceId };
}

function publishingSpec(secret = password): AppServiceHomeSpec {
  return { kind: "app-service", address: address(), publishingUser: "$contoso", publishingPassword: secret };
}

async function open(spec: AppServiceHomeSpec = publishingSpec(), warnings: string[] = []): Promise<AppServiceHomeAccess> {
  const access = await openAppServiceHomeAccess(spec, { warning: (m) => warnings.push(m) }, { retry: fast, credential });
  opened.push(access);
  return access;
}

/** Writes a file with a whole-millisecond mtime and the mode a fresh file has, so local and Kudu walks can agree exactly. */
async function put(relative: string, content: string | Buffer, mtime = new Date("2026-03-04T05:06:07.123Z")): Promise<void> {
  const file = path.join(home, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await chmod(file, 0o644);
  await utimes(file, mtime, mtime);
}

/** Gives every folder of the home the mode and a fixed time, after its content is written. */
async function settleFolders(folder = home): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) await settleFolders(path.join(folder, entry.name));
  }
  await chmod(folder, 0o755);
  const time = new Date("2026-02-01T00:00:00.250Z");
  await utimes(folder, time, time);
}

/** Every path of a folder with a file's SHA-256 (or "dir"), for before/after comparisons. */
async function snapshot(folder: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    const absolute = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      out[relative] = "dir";
      Object.assign(out, await snapshot(absolute, relative));
    } else out[relative] = createHash("sha256").update(await readFile(absolute)).digest("hex");
  }
  return out;
}

function described(entries: Iterable<ArchiveEntry>) {
  return [...entries]
    .map((e) => ({ name: e.name, kind: e.kind, size: e.size, sha256: e.sha256, mtime: e.mtime.getTime(), mode: e.mode }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function zipOfAppService(access: AppServiceHomeAccess, filter: PathFilter, between?: () => Promise<void>) {
  const walk = await access.walk(filter, {}, {});
  await between?.();
  const sink = await fileSink(path.join(root, `remote-${Math.random().toString(36).slice(2)}.zip`));
  const zip = new ZipWriter(sink, { workers: 1 });
  try {
    const skipped = await access.addContent(walk.entries, zip, { window: 16 });
    const result = await zip.finish();
    return { walk, skipped, entries: described(result.entries) };
  } catch (error) {
    await zip.abort();
    throw error;
  } finally {
    await sink.close();
  }
}

/** A local backup's content entries of the same folder, as core/backup writes them. */
async function zipOfLocal(folder: string, filter: PathFilter) {
  const walk = spoolHome(folder, filter);
  const sink = await fileSink(path.join(root, `local-${Math.random().toString(36).slice(2)}.zip`));
  const zip = new ZipWriter(sink, { workers: 1 });
  for (const entry of walk.entries) {
    const name = contentEntryName(entry.path);
    if (entry.kind === "directory") zip.addDirectory(`${name}/`, { mtime: entry.mtime, mode: entry.mode });
    else zip.addFile(name, `${folder}/${entry.path}`, { size: entry.size, mtime: entry.mtime, mode: entry.mode });
  }
  const result = await zip.finish();
  await sink.close();
  return { walk, entries: described(result.entries) };
}

function journalOf(id: string, overrides: Partial<RemoteRestoreJournal> = {}): RemoteRestoreJournal {
  return {
    formatVersion: 1,
    id,
    backup: "contoso_20260301020000",
    home: "App Service app contoso",
    host: os.hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    phase: "staging",
    kept: [],
    databasesRestored: [],
    ...overrides,
  };
}

async function errorOf(promise: Promise<unknown>): Promise<AppBackupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "app-service-home-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  home = await mkdtemp(path.join(root, "home-"));
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) % 251;
  await put("site/wwwroot/index.html", "<h1>contoso</h1>\n");
  await put("site/wwwroot/B.txt", "capital B\n");
  await put("site/wwwroot/a.txt", "small a\n");
  await put("site/wwwroot/_private.txt", "underscore\n");
  await put("site/wwwroot/css/site.css", "body{}\n");
  await put("site/wwwroot/Images/logo.png", big);
  await put("site/wwwroot/Images/2014/old.png", "old picture\n");
  await put("site/wwwroot/empty.txt", "");
  await put("LogFiles/app.log", "started\n");
  await mkdir(path.join(home, "site/wwwroot/uploads/empty"), { recursive: true });
  await settleFolders();
  standIn = await startKuduStandIn({
    home,
    credentials: { user: "$contoso", password },
    token,
    settings: { WEBSITE_TIME_ZONE: "UTC" },
    connectionStrings: { MainDb: { value: "Host=db;Password=Db-secret-5521", type: "PostgreSQL" } },
  });
});

afterEach(async () => {
  for (const access of opened) await access.close();
  opened = [];
  await standIn.stop();
});

describe("an App Service home as a backup reads it", () => {
  it("backs up the same entries as a local backup of the same folder: names, sizes, content, modes and times", async () => {
    const access = await open();
    const filter = await access.loadFilter(undefined);
    expect(filter.isEmpty).toBe(true);
    const remote = await zipOfAppService(access, filter);
    const local = await zipOfLocal(home, new PathFilter([], "no filter"));
    expect(remote.skipped).toEqual([]);
    expect(remote.entries).toEqual(local.entries);
    expect(remote.entries.map((e) => e.name)).toContain("fs/site/wwwroot/uploads/empty/");
    expect({ files: remote.walk.files, bytes: remote.walk.contentBytes }).toEqual({ files: local.walk.files, bytes: local.walk.contentBytes });
    // The walk's order is the local walk's (JS sort, a folder before its content), whatever order Kudu lists in.
    expect([...remote.walk.entries].map((e) => e.path)).toEqual([...local.walk.entries].map((e) => e.path));
    // With nothing left out, the content is one download of the whole home.
    expect(standIn.requests.filter((r) => r.path.startsWith("/api/zip/")).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/zip/"]);
    // Kudu's shortcuts out of the home are never followed.
    expect(remote.entries.some((e) => /SystemDrive|LocalSiteRoot/.test(e.name))).toBe(false);
  });

  it("applies the home's _backup.filter while streaming; files made after the walk go in when the filter allows, vanished ones are reported", async () => {
    await put("site/wwwroot/_backup.filter", "\\site\\wwwroot\\Images\\2014\n**/node_modules\n");
    await put("site/wwwroot/lib/node_modules/pkg/index.js", "module.exports = 1;\n");
    // A restore's journal and staged zip are app-backup's own, never the app's content.
    await put("data/app-backup/restore.json", "{}\n");
    const access = await open();
    const filter = await access.loadFilter(undefined);
    expect(filter.lines).toEqual(["\\site\\wwwroot\\Images\\2014", "**/node_modules"]);
    const remote = await zipOfAppService(access, filter, async () => {
      await put("site/wwwroot/added-later.txt", "new since the walk\n");
      await put("site/wwwroot/css/late.css", "new in a folder that comes as a zip\n");
      await put("site/wwwroot/Images/2014/added-later.png", "excluded all the same\n");
      await put("site/wwwroot/lib/node_modules/late.js", "excluded too\n");
      await unlink(path.join(home, "site/wwwroot/a.txt"));
    });
    const names = remote.entries.map((e) => e.name);
    expect(names).toContain("fs/site/wwwroot/added-later.txt");
    expect(names).toContain("fs/site/wwwroot/css/late.css");
    expect(names).toContain("fs/site/wwwroot/_backup.filter");
    expect(names).toContain("fs/site/wwwroot/lib/");
    expect(names.filter((n) => n.includes("Images/2014") || n.includes("node_modules"))).toEqual([]);
    expect(names).not.toContain("fs/site/wwwroot/a.txt");
    expect(names.filter((n) => n.startsWith("fs/data/app-backup"))).toEqual([]);
    // What the filter leaves out is never downloaded: its folders are not zipped whole, nor its files read.
    expect(standIn.requests.filter((r) => r.method === "GET" && /2014|node_modules|app-backup|\/api\/zip\/$|\/api\/zip\/site\/wwwroot\/$/.test(r.path))).toEqual([]);
    expect(standIn.requests.map((r) => r.path)).toContain("/api/zip/site/wwwroot/css/");
    expect(remote.skipped).toEqual([{ name: "fs/site/wwwroot/a.txt", reason: expect.stringContaining("vanished") }]);
    // What each line excluded is counted by the walk alone, as for a local backup.
    expect(filter.lineMatches()).toEqual([
      { line: "\\site\\wwwroot\\Images\\2014", matched: 1 },
      { line: "**/node_modules", matched: 1 },
    ]);
  });

  it("inline filter lines replace the home's filter file", async () => {
    await put("site/wwwroot/_backup.filter", "\\site\\wwwroot\\Images\n");
    const access = await open();
    const filter = await access.loadFilter(["LogFiles"]);
    const remote = await zipOfAppService(access, filter);
    const names = remote.entries.map((e) => e.name);
    expect(names).toContain("fs/site/wwwroot/Images/logo.png");
    expect(names.some((n) => n.startsWith("fs/LogFiles"))).toBe(false);
  });

  it("signs in with an Entra ID token when no publishing credentials are given", async () => {
    const access = await open({ kind: "app-service", address: address() });
    const remote = await zipOfAppService(access, new PathFilter([], "no filter"));
    expect(remote.entries.map((e) => e.name)).toContain("fs/site/wwwroot/index.html");
  });

  it("a download cut mid-way fails the backup as unreachable, never a shorter zip", async () => {
    const access = await open();
    const walk = await access.walk(new PathFilter([], "no filter"), {}, {});
    standIn.cutZipAfter(5000);
    const sink = await fileSink(path.join(root, "cut.zip"));
    const zip = new ZipWriter(sink, { workers: 1 });
    const error = await errorOf(access.addContent(walk.entries, zip, { window: 16 }));
    await zip.abort();
    await sink.close();
    expect(error.code).toBe("HOME_UNREACHABLE");
  });
});

describe("an App Service home as a restore writes it", () => {
  let tree: string;

  beforeEach(async () => {
    tree = await mkdtemp(path.join(root, "staged-"));
    const file = async (relative: string, content: string) => {
      await mkdir(path.dirname(path.join(tree, relative)), { recursive: true });
      await writeFile(path.join(tree, relative), content);
      const time = new Date("2025-11-12T13:14:16Z");
      await utimes(path.join(tree, relative), time, time);
    };
    await file("site/wwwroot/index.html", "<h1>restored</h1>\n");
    await file("site/wwwroot/css/site.css", "body{color:red}\n");
    await file("site/wwwroot/Images/logo.png", "restored logo\n");
    // A file where the home has a folder, and the other way round.
    await file("site/wwwroot/uploads", "uploads is a file in the backup\n");
    await file("site/wwwroot/B.txt/inside.txt", "B.txt is a folder in the backup\n");
    await mkdir(path.join(tree, "site/wwwroot/new-empty"), { recursive: true });
  });

  async function restored(kept: string[]) {
    const expected = await snapshot(tree);
    for (const path of kept) {
      const before = await snapshot(home);
      for (const [p, v] of Object.entries(before)) if (p === path || p.startsWith(`${path}/`)) expected[p] = v;
      const segments = path.split("/");
      for (let depth = 1; depth < segments.length; depth++) expected[segments.slice(0, depth).join("/")] = "dir";
    }
    return expected;
  }

  function withoutAppBackupFolder(snap: Record<string, string>) {
    return Object.fromEntries(Object.entries(snap).filter(([p]) => p !== "data" && !p.startsWith("data/")));
  }

  it("upload then switch gives the staged tree, kept paths untouched, what the backup lacks deleted", async () => {
    const access = await open();
    const kept = ["site/wwwroot/Images/2014"];
    const expected = await restored(kept);
    const journal = journalOf("r1", { kept });
    const previousTz = process.env.TZ;
    // Kudu reads a zip's DOS times as UTC: a machine in another zone must still restore the right times.
    process.env.TZ = "America/New_York";
    try {
      await access.begin(journal);
      await access.upload(tree, {});
    } finally {
      if (previousTz === undefined) delete process.env.TZ;
      else process.env.TZ = previousTz;
    }
    expect(existsSync(path.join(home, stagedZipPath("r1")))).toBe(true);
    expect(await readFile(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("<h1>contoso</h1>\n");
    await access.switchTo(journal);
    expect(withoutAppBackupFolder(await snapshot(home))).toEqual(expected);
    expect((await stat(path.join(home, "site/wwwroot/index.html"))).mtime.toISOString()).toBe("2025-11-12T13:14:16.000Z");
    expect(existsSync(path.join(home, JOURNAL_PATH))).toBe(false);
    expect(existsSync(path.join(home, stagedZipPath("r1")))).toBe(false);
    expect(await access.pendingJournal()).toBeUndefined();
  });

  it("a switch cut after the zip was extracted is finished by recover, from the staged zip in the home", async () => {
    const first = await open();
    const journal = journalOf("r2");
    const expected = await restored([]);
    await first.begin(journal);
    await first.upload(tree, {});
    standIn.failNext({ status: 500, server: "scm", method: "DELETE", path: /a\.txt$/, body: JSON.stringify({ Message: "The process cannot access the file." }) });
    const cut = await errorOf(first.switchTo(journal));
    expect(cut.code).toBe("HOME_UNREACHABLE");
    // The new content is in, the old is not all gone yet.
    expect(await readFile(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("<h1>restored</h1>\n");
    expect(existsSync(path.join(home, "site/wwwroot/a.txt"))).toBe(true);
    expect(JSON.parse(await readFile(path.join(home, JOURNAL_PATH), "utf8")).phase).toBe("switching");
    // A later run on another machine has no local copy of the staged zip.
    await rm(path.join(os.tmpdir(), "app-backup-kudu-restore-r2.zip"), { force: true });

    const later = await open();
    expect((await later.pendingJournal())?.phase).toBe("switching");
    const recovery = await later.recover();
    expect(recovery).toMatchObject({ backup: journal.backup, action: "completed" });
    expect(withoutAppBackupFolder(await snapshot(home))).toEqual(expected);
    expect(existsSync(path.join(home, JOURNAL_PATH))).toBe(false);
    expect(existsSync(path.join(home, stagedZipPath("r2")))).toBe(false);
    expect(await later.recover()).toBeUndefined();
  });

  it("a symlink in the backup is not restored (App Service cannot hold one), with a warning", async () => {
    await symlink("css/site.css", path.join(tree, "site/wwwroot/style.css"));
    const warnings: string[] = [];
    const access = await open(publishingSpec(), warnings);
    const journal = journalOf("r8");
    await access.begin(journal);
    await access.upload(tree, {});
    await access.switchTo(journal);
    expect(existsSync(path.join(home, "site/wwwroot/style.css"))).toBe(false);
    expect(await readFile(path.join(home, "site/wwwroot/css/site.css"), "utf8")).toBe("body{color:red}\n");
    expect(warnings).toEqual([expect.stringContaining("site/wwwroot/style.css is a symlink")]);
  });

  it("a restore stopped while staging is rolled back: the home is as it was", async () => {
    const before = await snapshot(home);
    const access = await open();
    const journal = journalOf("r3");
    await access.begin(journal);
    await access.upload(tree, {});
    await access.rollBack(journal);
    expect(withoutAppBackupFolder(await snapshot(home))).toEqual(before);
    expect(await readdir(path.join(home, "data/app-backup"))).toEqual([]);

    const again = await open();
    await again.begin(journalOf("r4"));
    await again.upload(tree, {});
    const recovery = await (await open()).recover();
    expect(recovery).toMatchObject({ action: "rolled back" });
    expect(withoutAppBackupFolder(await snapshot(home))).toEqual(before);
    expect(await readdir(path.join(home, "data/app-backup"))).toEqual([]);
  });

  it("a second restore finds the first one's journal and is refused; one still running elsewhere is not recovered", async () => {
    const first = await open();
    await first.begin(journalOf("r5", { host: "build-agent-7", pid: 4242 }));
    const second = await open();
    const refused = await errorOf(second.begin(journalOf("r6")));
    expect(refused.code).toBe("LOCKED");
    expect(refused.message).toContain("build-agent-7");
    expect((await errorOf(second.recover())).code).toBe("LOCKED");
    expect(JSON.parse(await readFile(path.join(home, JOURNAL_PATH), "utf8")).id).toBe("r5");
  });

  it("lists the current home whole, without app-backup's own folder", async () => {
    const access = await open();
    await access.begin(journalOf("r7"));
    const { exists, walk } = await access.listCurrent({});
    const paths = [...walk.entries].map((e) => e.path);
    expect(exists).toBe(true);
    expect(paths).toContain("site/wwwroot/Images/2014/old.png");
    expect(paths.some((p) => p.startsWith("data/app-backup"))).toBe(false);
    await access.rollBack(journalOf("r7"));
  });
});

describe("secrets", () => {
  it("a refused password (401) is not in the error", async () => {
    const wrong = "Wrong-publish-secret-31337";
    const access = await open(publishingSpec(wrong));
    const error = await errorOf(access.walk(new PathFilter([], "no filter"), {}, {}));
    expect(error.code).toBe("HOME_REFUSED");
    expect(`${error.message} ${error.hint}`).not.toContain(wrong);
  });

  it("a 403 or a 500 that echoes the password or the token is masked", async () => {
    const access = await open();
    standIn.failNext({ status: 403, server: "scm", body: JSON.stringify({ Message: `Denied for $contoso:${password}` }) });
    const forbidden = await errorOf(access.loadFilter(undefined));
    expect(forbidden.code).toBe("HOME_REFUSED");
    expect(`${forbidden.message} ${forbidden.hint}`).not.toContain(password);

    const withToken = await open({ kind: "app-service", address: address() });
    await withToken.listCurrent({});
    standIn.failNext({ status: 500, server: "scm", body: JSON.stringify({ Message: `Bearer ${token} was not expected here` }) });
    const failed = await errorOf(withToken.listCurrent({}));
    expect(failed.code).toBe("HOME_UNREACHABLE");
    expect(failed.message).toContain("500");
    expect(`${failed.message} ${failed.hint}`).not.toContain(token);
    expect(JSON.stringify(failed)).not.toContain(token);
  });

  it("reads and writes the settings through ARM; a home without a resource id says what is missing", async () => {
    const spec = publishingSpec();
    const read = await readAppServiceSettings(spec, { credential, armUrl: standIn.armUrl });
    expect(read).toEqual({ settings: { WEBSITE_TIME_ZONE: "UTC" }, connectionStrings: { MainDb: { value: "Host=db;Password=Db-secret-5521", type: "PostgreSQL" } } });
    await writeAppServiceSettings(spec, { settings: { WEBSITE_TIME_ZONE: "W. Europe Standard Time" } }, { credential, armUrl: standIn.armUrl });
    expect(standIn.settings).toEqual({ WEBSITE_TIME_ZONE: "W. Europe Standard Time" });
    expect(standIn.connectionStrings.MainDb?.type).toBe("PostgreSQL");

    const noResource = await errorOf(readAppServiceSettings({ kind: "app-service", address: { name: "contoso", scmUrl: standIn.scmUrl } }, { credential, armUrl: standIn.armUrl }));
    expect(noResource.code).toBe("CONFIG_INVALID");
    expect(noResource.hint).toContain("resourceGroup");
  });
});
