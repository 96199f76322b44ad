import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ArchiveEntry } from "../../core/archive/types.js";
import type { BackupManifest } from "../../core/format/manifest.js";
import { manifestToXml } from "../../core/format/manifest-xml.js";
import { nameProblem } from "../../core/format/entry-name.js";
import { runCli } from "../support/cli.js";
import { metaEntry, plantCraftedBackup } from "../support/crafted-backup.js";
import { leftovers, makeApp, treeFacts, type TestApp } from "../support/test-app.js";

/** One entry of a crafted zip: its name exactly as stored, content, and Unix mode (with type bits). */
interface CraftedEntry {
  name: string;
  data: string;
  mode: number;
}

/**
 * Writes a zip with Python's zipfile (an independent writer), entries exactly as
 * given; a NUL in a name is written as a placeholder and patched in the bytes,
 * since zipfile cuts names at NUL. Prints what it wrote, as the zip holds it.
 */
const pythonWriter = String.raw`
import hashlib, json, sys, zipfile
spec = json.load(open(sys.argv[1]))
out = sys.argv[2]
placeholder = "\x01NUL\x01"
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for e in spec:
        info = zipfile.ZipInfo(e["name"].replace("\x00", placeholder), date_time=(2024, 5, 6, 7, 8, 10))
        info.create_system = 3
        info.external_attr = (e["mode"] & 0xFFFF) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, e["data"].encode())
if any("\x00" in e["name"] for e in spec):
    data = open(out, "rb").read()
    # The placeholder and "\x00" differ in length: patch the name lengths too by keeping the length (pad with the byte after).
    data = data.replace(placeholder.encode(), b"\x00" + b"x" * (len(placeholder) - 1))
    open(out, "wb").write(data)
with zipfile.ZipFile(out) as z:
    print(json.dumps([{ "name": i.filename, "size": i.file_size, "compressedSize": i.compress_size, "method": i.compress_type,
        "crc32": i.CRC, "mode": i.external_attr >> 16, "sha256": hashlib.sha256(z.read(i) if not i.filename.endswith("/") else b"").hexdigest() } for i in z.infolist()]))
`;

interface WrittenEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  crc32: number;
  mode: number;
  sha256: string;
}

const kindOf = (mode: number): ArchiveEntry["kind"] => ((mode & 0o170000) === 0o040000 ? "directory" : (mode & 0o170000) === 0o120000 ? "symlink" : "file");

/** A zip written by Python plus a manifest that matches it exactly, as the backup `name` in the app's container. */
async function plantBackup(app: TestApp, name: string, entries: CraftedEntry[]): Promise<string[]> {
  await mkdir(app.backups, { recursive: true });
  const specFile = path.join(app.dir, `${name}.json`);
  await writeFile(specFile, JSON.stringify(entries));
  const zip = path.join(app.backups, `${name}.zip`);
  const written: WrittenEntry[] = JSON.parse(execFileSync("python3", ["-W", "ignore", "-c", pythonWriter, specFile, zip]).toString());
  const mtime = new Date("2024-05-06T07:08:10.000Z");
  // zipfile cuts names at NUL when reading back; the zip holds the patched name.
  const names = entries.map((e) => e.name.replace("\u0000", "\u0000xxxx"));
  const manifestEntries: ArchiveEntry[] = written.map((w, index) => ({
    name: names[index]!,
    kind: kindOf(w.mode),
    size: w.size,
    compressedSize: w.compressedSize,
    method: w.method === 8 ? "deflate" : "store",
    crc32: w.crc32,
    sha256: w.sha256,
    mtime,
    mode: w.mode,
    ...(kindOf(w.mode) === "symlink" ? { linkTarget: entries[index]!.data } : {}),
  }));
  // The manifest lists only what its reader accepts: a name it refuses (unsafe, or listed twice) would stop the
  // restore at the manifest, before the zip is looked at; here the zip's own check is what must refuse.
  const listed = new Set<string>();
  const accepted = manifestEntries.filter((e) => !nameProblem(e.name) && !listed.has(e.name) && listed.add(e.name));
  const manifest: BackupManifest = {
    formatVersion: 1,
    appName: "shop",
    backupName: name,
    status: "Succeeded",
    trigger: "OnDemand",
    startedAt: mtime,
    finishedAt: mtime,
    toolVersion: "0.1.0",
    zip: { name: `${name}.zip`, sizeBytes: (await stat(zip)).size },
    contentBytes: written.reduce((sum, w) => sum + w.size, 0),
    files: written.filter((w) => kindOf(w.mode) === "file").length,
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries: accepted,
  };
  await writeFile(path.join(app.backups, `${name}.xml`), manifestToXml(manifest));
  return names;
}

const file = (name: string, data = "payload"): CraftedEntry => ({ name, data, mode: 0o100644 });
const meta: CraftedEntry = file("meta", '<?xml version="1.0"?><AppConfiguration formatVersion="1"><Name>shop</Name></AppConfiguration>');

/** Restoring must fail with ARCHIVE_HOSTILE naming the entry, and leave the home and everything around it as it was. */
async function expectRefused(entries: CraftedEntry[], named: string, problem: RegExp, outside?: (app: TestApp) => string) {
  const app = await makeApp();
  expect(await plantBackup(app, "hostile", entries)).toContain(named);
  const before = treeFacts(app.home);
  const dirBefore = readdirSync(app.dir).sort();

  const run = await runCli(["restore", "hostile", "--config", app.config, "--json"]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.json).toMatchObject({ status: "Error", error: { code: "ARCHIVE_HOSTILE" } });
  expect(run.stderr).toContain(JSON.stringify(named));
  expect(run.stderr).toMatch(problem);
  expect(run.stderr).toContain("nothing was written");
  expect(treeFacts(app.home)).toEqual(before);
  expect(leftovers(app.home)).toEqual([]);
  expect(readdirSync(app.dir).sort()).toEqual(dirBefore);
  if (outside) expect(existsSync(outside(app))).toBe(false);

  const verify = await runCli(["verify", "hostile", "--config", app.config, "--json"]);
  expect(verify.code).toBe(4);
  expect(verify.json.differences).toContainEqual({ name: named, difference: expect.stringMatching(/^unsafe: /) });
}

describe("a hostile zip is refused before anything is written", () => {
  it("an entry escaping the home with ..", async () => {
    await expectRefused([meta, file("fs/site/ok.txt"), file("fs/../../escaped.txt")], "fs/../../escaped.txt", /escapes the target folder/, (app) =>
      path.resolve(app.home, "../escaped.txt"),
    );
  });

  it("an entry escaping with backslashes (a separator on Windows)", async () => {
    await expectRefused([meta, file("fs/site/..\\..\\..\\escaped.txt")], "fs/site/..\\..\\..\\escaped.txt", /escapes the target folder/);
  });

  it("an absolute path", async () => {
    const target = `/tmp/app-backup-absolute-${process.pid}.txt`;
    await expectRefused([meta, file(target)], target, /absolute path/, () => target);
  });

  it("a drive letter", async () => {
    await expectRefused([meta, file("C:\\Windows\\evil.txt")], "C:\\Windows\\evil.txt", /drive letter/);
  });

  it("an entry under a symlink of the same zip (it would be written through the link)", async () => {
    const outside = `/tmp/app-backup-link-target-${process.pid}`;
    await expectRefused(
      [meta, { name: "fs/site/link", data: outside, mode: 0o120777 }, file("fs/site/link/planted.txt")],
      "fs/site/link/planted.txt",
      /written through the symlink fs\/site\/link/,
      () => path.join(outside, "planted.txt"),
    );
  });

  it("a device file in the mode bits", async () => {
    await expectRefused([meta, { name: "fs/site/tty", data: "", mode: 0o020644 }], "fs/site/tty", /device, FIFO, socket or unknown type/);
  });

  it("an unknown file type in the mode bits", async () => {
    await expectRefused([meta, { name: "fs/site/odd", data: "x", mode: 0o170644 }], "fs/site/odd", /unknown type/);
  });

  it("the same name twice", async () => {
    await expectRefused([meta, file("fs/site/a.txt", "first"), file("fs/site/a.txt", "second")], "fs/site/a.txt", /holds this name twice/);
  });

  it("the same long name twice, beside a name that differs from it in one byte deep inside", async () => {
    const twin = (byte: string) => `fs/site/${"deep/".repeat(100)}${byte}/${"deep/".repeat(100)}file.txt`;
    await expectRefused([meta, file(twin("x"), "first"), file(twin("y"), "near twin"), file(twin("x"), "second")], twin("x"), /holds this name twice/);
  });

  it("a NUL character in a name", async () => {
    await expectRefused([meta, file("fs/site/evil\u0000.txt")], "fs/site/evil\u0000xxxx.txt", /NUL character/);
  });

  it("a name component longer than a file system allows", async () => {
    const name = `fs/site/${"n".repeat(300)}.txt`;
    await expectRefused([meta, file(name)], name, /longer than the 255 bytes/);
  });

  it("a path longer than a file system allows", async () => {
    const name = `fs/${Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(220, "d")).join("/")}/f.txt`;
    await expectRefused([meta, file(name)], name, /longer than the 4095 bytes/);
  });

  it("a file that is also used as a folder", async () => {
    await expectRefused([meta, file("fs/site/page"), file("fs/site/page/inner.txt")], "fs/site/page/inner.txt", /is a file in the same zip/);
  });

  it("accepts names that differ only in case (a Linux home can hold both) and restores both", async () => {
    const app = await makeApp();
    await plantBackup(app, "cases", [meta, file("fs/site/Readme.txt", "upper"), file("fs/site/README.txt", "lower")]);
    const run = await runCli(["restore", "cases", "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(Object.keys(treeFacts(app.home)).sort()).toEqual(["site/", "site/README.txt", "site/Readme.txt"]);
  });
});

describe("a zip whose central directory lies is refused before anything is written", () => {
  it.each([
    ["an entry count the directory cannot hold", (zip: Buffer, end: number) => (zip.writeUInt16LE(0xfffe, end + 8), zip.writeUInt16LE(0xfffe, end + 10)), /claims 65534 entries/],
    ["a directory offset past the end", (zip: Buffer, end: number) => zip.writeUInt32LE(0x7fffffff, end + 16), /central directory extends past the end/],
  ])("%s", async (_, patch, what) => {
    const app = await makeApp();
    await plantCraftedBackup(app, "lying", [metaEntry, { name: "fs/site/a.txt", mode: 0o100644, content: { bytes: Buffer.from("a") } }]);
    const zipPath = path.join(app.backups, "lying.zip");
    const zip = readFileSync(zipPath);
    patch(zip, zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])));
    writeFileSync(zipPath, zip);
    const before = treeFacts(app.home);

    const run = await runCli(["restore", "lying", "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.json).toMatchObject({ status: "Error", error: { code: "BACKUP_CORRUPT" } });
    expect(run.stderr).toMatch(what);
    expect(run.stderr).toMatch(/Nothing was changed/i);
    expect(run.stderr).not.toMatch(/RangeError|TypeError|\n\s+at /);
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);

    const verify = await runCli(["verify", "lying", "--config", app.config, "--json"]);
    expect(verify.code, verify.stderr).toBe(4);
    expect(verify.json.differences).toContainEqual({ name: "(zip)", difference: expect.stringMatching(what) });
  });
});
