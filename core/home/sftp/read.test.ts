import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshd, type TestSshd } from "../../../test/support/sshd.js";
import { parseSftpAddress } from "./address.js";
import { openSftpHome, type SftpSession } from "./connection.js";
import { openSftpRead, RemoteFileUnreadable } from "./read.js";

let sshd: TestSshd;
let session: SftpSession;
let folder: string;
const content = randomBytes(3 * 1024 * 1024 + 12345);

beforeAll(async () => {
  sshd = await startSshd();
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-read-"));
  writeFileSync(path.join(folder, "big.bin"), content);
  writeFileSync(path.join(folder, "empty"), "");
  const knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  session = await openSftpHome({ address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${folder}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
});

afterAll(async () => {
  await session?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A consumer that takes one chunk at a time, slowly, and can act after each. */
function slowSink(collected: Buffer[], afterChunk?: (index: number) => void): Writable {
  return new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      collected.push(chunk);
      afterChunk?.(collected.length);
      setTimeout(callback, 2);
    },
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe("openSftpRead", () => {
  it("streams the file's bytes in order", async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of openSftpRead(session, path.join(folder, "big.bin"), content.length)) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(content));
  });

  it("reads an empty file", async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of openSftpRead(session, path.join(folder, "empty"), 0)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).length).toBe(0);
  });

  it("keeps several reads in flight but no more than asked while a slow consumer pushes back", async () => {
    let inFlight = 0;
    let most = 0;
    const counting: SftpSession = {
      ...session,
      closed: session.closed,
      supports: (extension) => session.supports(extension),
      lost: (doing) => session.lost(doing),
      close: () => session.close(),
      request: (call, doing) => {
        inFlight++;
        most = Math.max(most, inFlight);
        return session.request(call, doing).finally(() => inFlight--);
      },
    };
    const collected: Buffer[] = [];
    await pipeline(openSftpRead(counting, path.join(folder, "big.bin"), content.length, { chunkSize: 32 * 1024, requestsAhead: 6 }), slowSink(collected));
    expect(sha256(Buffer.concat(collected))).toBe(sha256(content));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(6);
  });

  it("fails when the file is not the size the walk saw", async () => {
    const shrank = await failure(pipeline(openSftpRead(session, path.join(folder, "big.bin"), content.length + 1), slowSink([])));
    expect(shrank).toBeInstanceOf(RemoteFileUnreadable);
    expect(shrank.message).toContain("shrank");
    const grew = await failure(pipeline(openSftpRead(session, path.join(folder, "big.bin"), content.length - 1), slowSink([])));
    expect(grew.message).toContain("grew");
    expect((grew as RemoteFileUnreadable).path).toBe(path.join(folder, "big.bin"));
  });

  it("fails when the file shrinks while it is read", async () => {
    const file = path.join(folder, "shrinking.bin");
    writeFileSync(file, content);
    const error = await failure(pipeline(openSftpRead(session, file, content.length), slowSink([], (index) => index === 1 && truncateSync(file, 1024 * 1024))));
    expect(error).toBeInstanceOf(RemoteFileUnreadable);
    expect(error.message).toContain("shrank while it was read");
  });

  it("can be abandoned part way, leaving the session usable", async () => {
    const stream = openSftpRead(session, path.join(folder, "big.bin"), content.length);
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break;
    }
    expect(stream.destroyed).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of openSftpRead(session, path.join(folder, "big.bin"), content.length)) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(content));
  });

  it("fails when the file vanished, in the local walk's words", async () => {
    const error = await failure(pipeline(openSftpRead(session, path.join(folder, "gone.bin"), 10), slowSink([])));
    expect(error).toBeInstanceOf(RemoteFileUnreadable);
    expect((error as RemoteFileUnreadable).reason).toBe("vanished while the backup ran (ENOENT)");
  });
});
