import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, type TestSshd } from "../../../test/support/sshd.js";
import { AppBackupError } from "../../errors.js";
import { parseSftpAddress } from "./address.js";
import { openSftpHome, type SftpSession } from "./connection.js";
import {
  makeRemoteFolder,
  makeRemoteSymlink,
  readRemoteSmallFile,
  removeRemoteTree,
  renameRemote,
  setRemoteAttributes,
  writeRemoteFile,
  writeRemoteSmallFileAtomically,
} from "./write.js";

let sshd: TestSshd;
let session: SftpSession;
let folder: string;

beforeAll(async () => {
  sshd = await startSshd();
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-write-"));
  const knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  session = await openSftpHome({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${folder}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
});

afterAll(async () => {
  await session?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<AppBackupError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppBackupError);
  return error as AppBackupError;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("remote writes", () => {
  it("makes folders, accepting one that exists and refusing a file in the way", async () => {
    const made = path.join(folder, "made");
    await makeRemoteFolder(session, made);
    await makeRemoteFolder(session, made);
    await makeRemoteFolder(session, path.join(made, "inner"), 0o700);
    expect(statSync(path.join(made, "inner")).isDirectory()).toBe(true);
    writeFileSync(path.join(folder, "a-file"), "x");
    const error = await failure(makeRemoteFolder(session, path.join(folder, "a-file")));
    expect(error.code).toBe("RESTORE");
    expect(error.message).toContain(path.join(folder, "a-file"));
  });

  it("writes a file from a stream with its content, mode and mtime", async () => {
    const content = randomBytes(2 * 1024 * 1024 + 777);
    const target = path.join(folder, "written.bin");
    const pieces = Array.from({ length: 40 }, (_, index) => content.subarray(Math.floor((index * content.length) / 40), Math.floor(((index + 1) * content.length) / 40)));
    const mtime = new Date("2021-03-04T05:06:07Z");
    const bytes = await writeRemoteFile(session, target, Readable.from(pieces), { mode: 0o100640, mtime });
    expect(bytes).toBe(content.length);
    expect(sha256(readFileSync(target))).toBe(sha256(content));
    const stats = statSync(target);
    expect(stats.mode & 0o7777).toBe(0o640);
    expect(stats.mtime.getTime()).toBe(mtime.getTime());
  });

  it("replaces a longer file's content entirely, and writes an empty file", async () => {
    const target = path.join(folder, "rewritten.txt");
    writeFileSync(target, "a much longer previous content");
    await writeRemoteFile(session, target, Readable.from([Buffer.from("short")]), { mode: 0o644, mtime: new Date() });
    expect(readFileSync(target, "utf8")).toBe("short");
    await writeRemoteFile(session, path.join(folder, "empty.txt"), Readable.from([]), { mode: 0o644, mtime: new Date() });
    expect(readFileSync(path.join(folder, "empty.txt")).length).toBe(0);
  });

  it("gives a folder its mode and mtime", async () => {
    const target = path.join(folder, "dated");
    mkdirSync(target);
    const mtime = new Date("2019-09-09T09:09:09Z");
    await setRemoteAttributes(session, target, { mode: 0o40750, mtime });
    expect(statSync(target).mode & 0o7777).toBe(0o750);
    expect(statSync(target).mtime.getTime()).toBe(mtime.getTime());
  });

  it("makes symlinks pointing where asked, relative or absolute", async () => {
    await makeRemoteSymlink(session, path.join(folder, "rel-link"), "../elsewhere/target.txt");
    await makeRemoteSymlink(session, path.join(folder, "abs-link"), "/etc/hostname");
    expect(readlinkSync(path.join(folder, "rel-link"))).toBe("../elsewhere/target.txt");
    expect(readlinkSync(path.join(folder, "abs-link"))).toBe("/etc/hostname");
    expect(lstatSync(path.join(folder, "rel-link")).isSymbolicLink()).toBe(true);
  });

  it("renames over an existing file", async () => {
    writeFileSync(path.join(folder, "new.txt"), "new");
    writeFileSync(path.join(folder, "current.txt"), "old");
    await renameRemote(session, path.join(folder, "new.txt"), path.join(folder, "current.txt"));
    expect(readFileSync(path.join(folder, "current.txt"), "utf8")).toBe("new");
    expect(existsSync(path.join(folder, "new.txt"))).toBe(false);
  });

  it("refuses to rename on a server without posix-rename@openssh.com", async () => {
    // Every OpenSSH server offers the extension: this session says its server does not.
    const withoutPosixRename: SftpSession = { ...session, closed: false, supports: (extension) => extension !== "posix-rename@openssh.com" && session.supports(extension) };
    writeFileSync(path.join(folder, "stays.txt"), "stays");
    const error = await failure(renameRemote(withoutPosixRename, path.join(folder, "stays.txt"), path.join(folder, "moved.txt")));
    expect(error.code).toBe("HOME_REFUSED");
    expect(error.message).toContain("posix-rename@openssh.com");
    expect(existsSync(path.join(folder, "stays.txt"))).toBe(true);
  });

  it("removes a tree without following its symlinks, and accepts one that is not there", async () => {
    const tree = path.join(folder, "tree");
    const outside = path.join(folder, "outside");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "keep.txt"), "keep");
    for (let index = 0; index < 30; index++) {
      mkdirSync(path.join(tree, `d${index}`, "sub"), { recursive: true });
      writeFileSync(path.join(tree, `d${index}`, "sub", "f.txt"), "f");
      writeFileSync(path.join(tree, `d${index}`, "g.txt"), "g");
    }
    symlinkSync(outside, path.join(tree, "to-outside"));
    symlinkSync("nowhere", path.join(tree, "d3", "dangling"));
    await removeRemoteTree(session, tree);
    expect(existsSync(tree)).toBe(false);
    expect(readFileSync(path.join(outside, "keep.txt"), "utf8")).toBe("keep");
    await removeRemoteTree(session, tree);
    writeFileSync(path.join(folder, "single.txt"), "x");
    await removeRemoteTree(session, path.join(folder, "single.txt"));
    expect(existsSync(path.join(folder, "single.txt"))).toBe(false);
  });

  it("reads and replaces a small file atomically, leaving no temporary file", async () => {
    const journal = path.join(folder, "journal", "restore.json");
    mkdirSync(path.dirname(journal));
    expect(await readRemoteSmallFile(session, journal)).toBeUndefined();
    await writeRemoteSmallFileAtomically(session, journal, '{"step":1}');
    expect((await readRemoteSmallFile(session, journal))?.toString()).toBe('{"step":1}');
    const large = "x".repeat(200_000);
    await writeRemoteSmallFileAtomically(session, journal, large);
    expect((await readRemoteSmallFile(session, journal))?.toString()).toBe(large);
    expect(readdirSync(path.dirname(journal))).toEqual(["restore.json"]);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
  });

  it("passes on the source's own failure", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error("the archive entry is corrupt"));
      },
    });
    const error = await writeRemoteFile(session, path.join(folder, "from-bad-source.bin"), failing, { mode: 0o644, mtime: new Date() }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe("the archive entry is corrupt");
  });

  it("says which path could not be written", async () => {
    const error = await failure(writeRemoteFile(session, path.join(folder, "no-such-folder", "f.txt"), Readable.from([Buffer.from("x")]), { mode: 0o644, mtime: new Date() }));
    expect(error.code).toBe("RESTORE");
    expect(error.message).toContain(`create ${path.join(folder, "no-such-folder", "f.txt")}`);
    expect(error.message).toContain("no such file or folder");
  });
});
