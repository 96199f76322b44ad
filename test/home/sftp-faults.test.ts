import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { PathFilter } from "../../core/plan/filter.js";
import { parseSftpAddress } from "../../core/home/sftp/address.js";
import { openSftpHome, type SftpSession } from "../../core/home/sftp/connection.js";
import { openSftpRead } from "../../core/home/sftp/read.js";
import { visitSftpHome } from "../../core/home/sftp/walk.js";
import { writeRemoteFile } from "../../core/home/sftp/write.js";
import { startSshd, type TestSshd } from "../support/sshd.js";
import { startTcpCutProxy, type TcpCutProxy } from "../support/tcp-cut-proxy.js";

/** Long enough for a loaded machine, short enough to tell a hang from a slow failure. */
const noHangWithinMs = 30_000;
const bigFileBytes = 24 * 1024 * 1024;

let sshd: TestSshd;
let proxy: TcpCutProxy;
let folder: string;
let home: string;
let knownHosts: string;
const sessions: SftpSession[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startTcpCutProxy(sshd.port);
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-faults-"));
  home = path.join(folder, "home");
  for (let index = 0; index < 200; index++) {
    mkdirSync(path.join(home, `folder-${String(index).padStart(3, "0")}`, "inner"), { recursive: true });
    writeFileSync(path.join(home, `folder-${String(index).padStart(3, "0")}`, "inner", "file.txt"), "content");
  }
  writeFileSync(path.join(folder, "big.bin"), randomBytes(bigFileBytes));
  knownHosts = path.join(folder, "known_hosts");
  // The proxy presents the server's key under its own port.
  writeFileSync(knownHosts, `${sshd.hostKeyLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`);
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function connectThroughProxy(): Promise<SftpSession> {
  const session = await openSftpHome({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${proxy.port}${home}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
  sessions.push(session);
  return session;
}

/** The error the work ends with, or a test failure if it neither ends nor fails in time. */
async function failureWithin(work: Promise<unknown>): Promise<AppBackupError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${noHangWithinMs} ms: it hangs`)), noHangWithinMs);
  });
  try {
    const error = await Promise.race([work.then(() => new Error("it finished although the connection was cut"), (caught: unknown) => caught), hang]);
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  } finally {
    clearTimeout(timer);
  }
}

/** A consumer slow enough that the file is still being read when the connection goes. */
function slowSink(afterChunk?: (index: number) => void): Writable {
  let count = 0;
  return new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      afterChunk?.(++count);
      setTimeout(callback, 1);
    },
  });
}

describe("a connection lost mid-work", () => {
  it("stops a walk with a clear error, and the session says it is closed", async () => {
    const session = await connectThroughProxy();
    let entries = 0;
    const error = await failureWithin(
      visitSftpHome(session, home, new PathFilter([], "test"), {
        entry: () => {
          if (++entries === 50) proxy.cutAll();
        },
      }),
    );
    expect(error.code).toBe("HOME_UNREACHABLE");
    expect(error.message).toContain(`The connection to the SFTP server 127.0.0.1:${proxy.port} was lost while`);
    expect(entries).toBeLessThan(600);
    expect(session.closed).toBe(true);
  });

  it("stops a read cut after some bytes with a clear error", async () => {
    const session = await connectThroughProxy();
    proxy.cutAfterServerBytes(2 * 1024 * 1024);
    const error = await failureWithin(pipeline(openSftpRead(session, path.join(folder, "big.bin"), bigFileBytes), slowSink()));
    expect(error.code).toBe("HOME_UNREACHABLE");
    expect(error.message).toContain(`was lost while reading ${path.join(folder, "big.bin")}`);
    expect(session.closed).toBe(true);
  });

  it("stops a read whose server-side processes are killed", async () => {
    const session = await connectThroughProxy();
    expect(sshd.connectionPids().length).toBeGreaterThan(0);
    const error = await failureWithin(pipeline(openSftpRead(session, path.join(folder, "big.bin"), bigFileBytes), slowSink((index) => index === 5 && sshd.killConnections())));
    expect(error.code).toBe("HOME_UNREACHABLE");
    expect(session.closed).toBe(true);
  });

  it("stops a write with a clear error", async () => {
    const session = await connectThroughProxy();
    let sent = 0;
    const source = new Readable({
      read() {
        if (++sent === 40) proxy.cutAll();
        this.push(sent > 4000 ? null : randomBytes(64 * 1024));
      },
    });
    const error = await failureWithin(writeRemoteFile(session, path.join(folder, "upload.bin"), source, { mode: 0o644, mtime: new Date() }));
    expect(error.code).toBe("HOME_UNREACHABLE");
    expect(error.message).toContain(path.join(folder, "upload.bin"));
    expect(session.closed).toBe(true);
  });

  it("fails any request on a lost session at once", async () => {
    const session = await connectThroughProxy();
    proxy.cutAll();
    const error = await failureWithin(
      (async () => {
        // The client learns of the cut when its socket closes.
        while (!session.closed) await new Promise((resolve) => setTimeout(resolve, 10));
        await visitSftpHome(session, home, new PathFilter([], "test"), { entry: () => {} });
      })(),
    );
    expect(error.code).toBe("HOME_UNREACHABLE");
    await session.close();
  });
});
