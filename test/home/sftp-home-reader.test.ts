import { createHash, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, chmodSync, lutimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArchiveEntry } from "../../core/archive/types.js";
import { archiveWorkersStarted } from "../../core/archive/worker-pool.js";
import { ZipWriter } from "../../core/archive/zip-writer.js";
import { openZipFile } from "../../core/archive/zip-reader.js";
import { runBackup } from "../../core/backup/backup.js";
import { resolveConfig } from "../../core/config/load.js";
import { AppBackupError } from "../../core/errors.js";
import { contentEntryName } from "../../core/format/zip-layout.js";
import { parseSftpAddress } from "../../core/home/sftp/address.js";
import { openSftpHome } from "../../core/home/sftp/connection.js";
import { openSftpHomeAccess, type SftpHomeAccess } from "../../core/home/sftp/sftp-home.js";
import { SftpHomeReader } from "../../core/home/sftp/sftp-reader.js";
import { loadFilter, PathFilter } from "../../core/plan/filter.js";
import { spoolHome, type PlannedEntries } from "../../core/plan/planned-entries.js";
import { LocalStore } from "../../core/store/local.js";
import { startSshd, type TestSshd } from "../support/sshd.js";
import { startTcpCutProxy, type TcpCutProxy } from "../support/tcp-cut-proxy.js";

let sshd: TestSshd;
let proxy: TcpCutProxy;
let folder: string;
let home: string;
let knownHosts: string;
let store: LocalStore;
let zipCounter = 0;
const opened: SftpHomeAccess[] = [];

const when = (iso: string) => new Date(iso);
/** Sizes on both sides of the reader's whole-file limit (1 MiB) and of its 8 MiB budget. */
const largeBytes = 3 * 1024 * 1024 + 17;

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startTcpCutProxy(sshd.port);
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-home-reader-"));
  home = path.join(folder, "home");
  knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n${sshd.hostKeyLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`);
  store = new LocalStore(path.join(folder, "store"));
  buildHome(home);
});

afterAll(async () => {
  await Promise.all(opened.splice(0).map((access) => access.close()));
  await proxy?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** A home with what a backup must carry over exactly: modes, times, links, empty folders, sizes on both sides of the limits. */
function buildHome(root: string): void {
  const file = (relative: string, content: Buffer | string, mode = 0o644, mtime = when("2025-03-04T05:06:07Z")) => {
    const absolute = path.join(root, relative);
    mkdirSync(path.dirname(absolute), { recursive: true });
    writeFileSync(absolute, content);
    chmodSync(absolute, mode);
    utimesSync(absolute, mtime, mtime);
  };
  file("site/wwwroot/index.html", "<h1>hello</h1>\n");
  file("site/wwwroot/_backup.filter", "# caches are rebuilt\n\\site\\wwwroot\\cache\n**/*.tmp\n");
  file("site/wwwroot/cache/page.html", "cached");
  file("site/wwwroot/notes.tmp", "scratch");
  file("site/wwwroot/run.sh", "#!/bin/sh\necho run\n", 0o750, when("2024-12-31T23:59:59Z"));
  file("site/wwwroot/secret.txt", "only the owner", 0o600);
  file("site/wwwroot/empty.txt", "");
  file("data/large.bin", randomBytes(largeBytes));
  file("data/repeated.txt", "the same line again\n".repeat(200_000));
  file("data/exactly-1MiB.bin", randomBytes(1024 * 1024));
  for (let index = 0; index < 120; index++) file(`many/file-${String(index).padStart(3, "0")}.txt`, `file ${index}\n`.repeat(index * 40));
  mkdirSync(path.join(root, "empty-folder"), { recursive: true });
  symlinkSync("../data/large.bin", path.join(root, "site/wwwroot/link-to-large"));
  symlinkSync("/etc", path.join(root, "link-to-etc"));
  spawnSync("mkfifo", [path.join(root, "a-fifo")]);
  lutimesSync(path.join(root, "link-to-etc"), when("2023-01-02T03:04:05Z"), when("2023-01-02T03:04:05Z"));
  for (const relative of ["site/wwwroot", "site", "data", "many", "empty-folder", "."]) utimesSync(path.join(root, relative), when("2025-01-01T00:00:00Z"), when("2025-01-01T00:00:00Z"));
}

async function openAccess(root = home, port = sshd.port): Promise<SftpHomeAccess> {
  const access = await openSftpHomeAccess({ kind: "sftp", address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${port}${root}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
  opened.push(access);
  return access;
}

interface Archived {
  entries: ArchiveEntry[];
  skipped: Array<{ name: string; reason: string }>;
  zipPath: string;
}

/** Writes the content of `entries` into a zip in the local store, the way a backup does, with `add` adding them. */
async function archiveWith(add: (zip: ZipWriter) => Promise<Array<{ name: string; reason: string }>>): Promise<Archived> {
  const name = `archive-${++zipCounter}.zip`;
  const upload = await store.upload(name);
  const zip = new ZipWriter(upload);
  try {
    const skipped = await add(zip);
    const result = await zip.finish();
    await upload.commit();
    const entries = [...result.entries];
    result.entries.close();
    return { entries, skipped: [...skipped, ...result.skipped], zipPath: store.localPath(name) };
  } catch (error) {
    await zip.abort();
    await upload.abort();
    throw error;
  }
}

/** The local backup's archive loop (core/backup/backup.ts), for comparison. */
function addLocally(root: string, entries: PlannedEntries, zip: ZipWriter): Promise<Array<{ name: string; reason: string }>> {
  for (const entry of entries) {
    const name = contentEntryName(entry.path);
    if (entry.kind === "directory") zip.addDirectory(`${name}/`, { mtime: entry.mtime, mode: entry.mode });
    else if (entry.kind === "symlink") zip.addSymlink(name, entry.linkTarget!, { mtime: entry.mtime, mode: entry.mode });
    else zip.addFile(name, `${root}/${entry.path}`, { size: entry.size, mtime: entry.mtime, mode: entry.mode });
  }
  return Promise.resolve([]);
}

/** What a reader of the zip sees of each entry; times to the second, as the zip keeps them. */
function readable(entries: ArchiveEntry[]) {
  return entries.map((entry) => ({
    name: entry.name,
    kind: entry.kind,
    size: entry.size,
    sha256: entry.sha256,
    mode: entry.mode.toString(8),
    mtime: Math.floor(entry.mtime.getTime() / 1000),
    linkTarget: entry.linkTarget,
  }));
}

describe("the SFTP home as a backup reads it", () => {
  it("finds the same filter, walk and totals as a local backup of the same tree", async () => {
    const access = await openAccess();
    expect(access.description).toBe(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${home}`);
    const remoteFilter = await access.loadFilter(undefined);
    const localFilter = await loadFilter(home, undefined);
    expect(remoteFilter.lines).toEqual(localFilter.lines);
    expect(remoteFilter.source).toBe(`${access.description}/site/wwwroot/_backup.filter`);
    expect((await access.loadFilter(["only/this"])).lines).toEqual(["only/this"]);

    const remote = await access.walk(remoteFilter, {}, { memoryBytes: 1024 });
    const local = spoolHome(home, localFilter);
    try {
      const shape = (walk: typeof local) => [...walk.entries].map((entry) => ({ ...entry, mtime: Math.floor(entry.mtime.getTime() / 1000) }));
      expect(shape(remote)).toEqual(shape(local));
      expect(remote.entries.spilled).toBe(true);
      expect({ files: remote.files, contentBytes: remote.contentBytes, ignored: remote.ignored, unreadable: remote.unreadable }).toEqual({
        files: local.files,
        contentBytes: local.contentBytes,
        ignored: local.ignored,
        unreadable: local.unreadable,
      });
      expect(remote.ignored.map((item) => item.path)).toEqual(["a-fifo"]);
      expect(remoteFilter.unusedLines()).toEqual([]);
    } finally {
      remote.entries.close();
      local.entries.close();
    }
  });

  it("writes a zip that reads the same as a local backup's: names, sizes, modes, times, links and content", async () => {
    const access = await openAccess();
    const filter = await access.loadFilter(undefined);
    const walk = await access.walk(filter, {}, {});
    const remote = await archiveWith((zip) => access.addContent(walk.entries, zip, { window: 4096 }));
    walk.entries.close();
    const localWalk = spoolHome(home, await loadFilter(home, undefined));
    const local = await archiveWith((zip) => addLocally(home, localWalk.entries, zip));
    localWalk.entries.close();

    expect(remote.skipped).toEqual([]);
    expect(readable(remote.entries)).toEqual(readable(local.entries));
    const names = remote.entries.map((entry) => entry.name);
    expect(names).toContain("fs/empty-folder/");
    expect(names).not.toContain("fs/site/wwwroot/cache/");
    expect(names).not.toContain("fs/site/wwwroot/notes.tmp");

    // Read back from the archive itself, as a restore would.
    const zip = await openZipFile(remote.zipPath);
    try {
      const byName = new Map(zip.entries.map((entry) => [entry.name, entry]));
      expect((await zip.readEntry(byName.get("fs/data/large.bin")!)).equals(readFileSync(path.join(home, "data/large.bin")))).toBe(true);
      expect((await zip.readEntry(byName.get("fs/site/wwwroot/link-to-large")!)).toString()).toBe("../data/large.bin");
      expect(byName.get("fs/site/wwwroot/run.sh")!.mode.toString(8)).toBe("100750");
      expect(byName.get("fs/link-to-etc")!.isSymlink).toBe(true);
      expect(byName.get("fs/site/wwwroot/run.sh")!.mtime.toISOString()).toBe("2024-12-31T23:59:59.000Z");
    } finally {
      await zip.close();
    }
  });

  it("gives the same archive when it may read only a file or two ahead and hold a few KiB", async () => {
    const session = await openSftpHome({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${home}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
    try {
      const tight = new SftpHomeReader(session, {}, {
        wholeFileLimit: 4096,
        filesAhead: 2,
        bytesAhead: 8192,
        largeFilesOpen: 1,
        entriesAhead: 3,
        bytesQueuedInZip: 16 * 1024,
        chunkSize: 16 * 1024,
        requestsAhead: 2,
        // A collection every few KiB: the archive is the same however often it runs.
        bytesPerCollection: 8192,
      });
      const walk = await tight.walk(new PathFilter([], "no filter"), {}, {});
      const remote = await archiveWith((zip) => tight.addContent(walk.entries, zip, { window: 2 }));
      walk.entries.close();
      const localWalk = spoolHome(home, new PathFilter([], "no filter"));
      const local = await archiveWith((zip) => addLocally(home, localWalk.entries, zip));
      localWalk.entries.close();
      expect(readable(remote.entries)).toEqual(readable(local.entries));
    } finally {
      await session.close();
    }
  });

  it("leaves out and reports files deleted or changed between the walk and the read, and archives the rest", async () => {
    const root = path.join(folder, "changing");
    mkdirSync(path.join(root, "a"), { recursive: true });
    writeFileSync(path.join(root, "a/gone-small.txt"), "soon gone");
    writeFileSync(path.join(root, "a/gone-large.bin"), randomBytes(largeBytes));
    writeFileSync(path.join(root, "a/grows.txt"), "short");
    writeFileSync(path.join(root, "a/shrinks-large.bin"), randomBytes(largeBytes));
    writeFileSync(path.join(root, "a/kept.txt"), "still here");
    const access = await openAccess(root);
    const walk = await access.walk(new PathFilter([], "no filter"), {}, {});
    unlinkSync(path.join(root, "a/gone-small.txt"));
    unlinkSync(path.join(root, "a/gone-large.bin"));
    writeFileSync(path.join(root, "a/grows.txt"), "much longer than it was");
    writeFileSync(path.join(root, "a/shrinks-large.bin"), "tiny now");
    const archived = await archiveWith((zip) => access.addContent(walk.entries, zip, { window: 16 }));
    walk.entries.close();

    expect(archived.skipped).toEqual([
      { name: "fs/a/gone-large.bin", reason: "vanished while the backup ran (ENOENT)" },
      { name: "fs/a/gone-small.txt", reason: "vanished while the backup ran (ENOENT)" },
      { name: "fs/a/grows.txt", reason: "it grew since the walk (5 bytes expected, more found)" },
      { name: "fs/a/shrinks-large.bin", reason: `it shrank since the walk (${largeBytes} bytes expected, 8 found)` },
    ]);
    expect(archived.entries.map((entry) => entry.name)).toEqual(["fs/a/", "fs/a/kept.txt"]);
    const kept = archived.entries[1]!;
    expect(kept.sha256).toBe(createHash("sha256").update("still here").digest("hex"));
  });

  it("rejects with HOME_UNREACHABLE when the connection is cut while content is read, and says what it was reading", async () => {
    const access = await openAccess(home, proxy.port);
    const walk = await access.walk(new PathFilter([], "no filter"), {}, {});
    // Past the walk, inside the files' content (the large files alone are ~5 MiB).
    proxy.cutAfterServerBytes(2 * 1024 * 1024);
    const failure = await archiveWith((zip) => access.addContent(walk.entries, zip, { window: 4096 })).then(
      () => new Error("it finished although the connection was cut"),
      (caught: unknown) => caught,
    );
    walk.entries.close();
    expect(failure).toBeInstanceOf(AppBackupError);
    expect((failure as AppBackupError).code).toBe("HOME_UNREACHABLE");
    expect((failure as AppBackupError).message).toMatch(/lost while (reading|opening|closing) \//);
    expect((failure as AppBackupError).message).not.toContain(sshd.clientKeyText.slice(40, 80));
  });

  it("leaves out what the walk's exclude names by its path on the server, after the filter", async () => {
    const access = await openAccess();
    const walk = await access.walk(new PathFilter(["data"], "test"), { exclude: (absolute) => absolute === `${home}/many` }, {});
    const paths = [...walk.entries].map((entry) => entry.path);
    walk.entries.close();
    expect(paths.some((p) => p.startsWith("many"))).toBe(false);
    expect(paths.some((p) => p.startsWith("data"))).toBe(false);
    expect(paths).toContain("site/wwwroot/index.html");
  });

  it("stops at an aborted signal", async () => {
    const access = await openAccess();
    const walk = await access.walk(new PathFilter([], "no filter"), {}, {});
    const controller = new AbortController();
    controller.abort(new Error("stopped by the user"));
    const failure = await archiveWith((zip) => access.addContent(walk.entries, zip, { window: 16, signal: controller.signal })).catch((caught: unknown) => caught);
    walk.entries.close();
    expect((failure as Error).message).toBe("stopped by the user");
  });
});

describe("a home this user may not read", () => {
  let strict: TestSshd;
  const strictOpened: SftpHomeAccess[] = [];
  beforeAll(async () => {
    // As root, only a server without the capabilities that bypass file modes refuses anything.
    strict = await startSshd({ fileModesBindRoot: true });
    writeFileSync(knownHosts, `${strict.hostKeyLine}\n`, { flag: "a" });
  });
  afterAll(async () => {
    await Promise.all(strictOpened.splice(0).map((access) => access.close()));
    await strict?.stop();
  });
  const openStrict = async (root: string) => {
    const access = await openSftpHomeAccess({ kind: "sftp", address: parseSftpAddress(`sftp://${strict.user}@127.0.0.1:${strict.port}${root}`), privateKeyFile: strict.clientKeyPath, knownHosts });
    strictOpened.push(access);
    return access;
  };

  it("fails with FILTER_INVALID for a filter file it cannot read, and HOME_MISSING when the home itself cannot be listed", async () => {
    const root = path.join(folder, "guarded");
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, "_backup.filter"), "logs\n");
    chmodSync(path.join(root, "_backup.filter"), 0o000);
    const access = await openStrict(root);
    const filterRefused = await access.loadFilter(undefined).catch((caught: unknown) => caught);
    expect((filterRefused as AppBackupError).code).toBe("FILTER_INVALID");
    expect((filterRefused as AppBackupError).message).toBe(`Cannot read the filter file ${access.description}/_backup.filter: permission denied (EACCES).`);

    chmodSync(root, 0o000);
    try {
      const homeRefused = await access.loadFilter(undefined).catch((caught: unknown) => caught);
      expect((homeRefused as AppBackupError).code).toBe("HOME_MISSING");
      const walkRefused = await access.walk(new PathFilter([], "no filter"), {}, {}).catch((caught: unknown) => caught);
      expect((walkRefused as AppBackupError).code).toBe("HOME_MISSING");
    } finally {
      chmodSync(root, 0o755);
    }
  });
});

describe("a backup of the SFTP home", () => {
  it("leaves the connection's thread a core: its archive starts one worker fewer than there are cores, and the zip holds every file", async () => {
    const container = path.join(folder, "backup-workers");
    // More small files than the main thread deflates alone.
    const many = path.join(folder, "many-small");
    for (let index = 0; index < 600; index++) {
      mkdirSync(path.join(many, `d${index % 6}`), { recursive: true });
      writeFileSync(path.join(many, `d${index % 6}`, `page-${index}.html`), `<p>page ${index}</p>\n`.repeat(1 + (index % 90)));
    }
    const options = resolveConfig(
      { name: "shop", home: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${many}`, sftp: { privateKeyFile: sshd.clientKeyPath, knownHosts }, backup: { storage: { path: container } } },
      { baseDir: folder },
    );
    const before = archiveWorkersStarted();
    const result = await runBackup(options, { now: when("2026-01-02T03:04:05Z") });
    const started = archiveWorkersStarted() - before;
    expect(result).toMatchObject({ status: "Succeeded", files: 600 });
    expect(started).toBe(Math.max(1, os.availableParallelism() - 1));
    const zip = await openZipFile(path.join(container, `${result.name}.zip`));
    try {
      const files = zip.entries.filter((entry) => entry.name.endsWith(".html"));
      expect(files).toHaveLength(600);
      for (const entry of files) {
        expect((await zip.readEntry(entry)).equals(readFileSync(path.join(many, entry.name.slice("fs/".length))))).toBe(true);
      }
    } finally {
      await zip.close();
    }
  });
});
