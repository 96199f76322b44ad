// Child process for the "never keeps the process alive" test: archives, then ends
// one way or another, and must exit by itself (no process.exit here).
import { Readable } from "node:stream";
import { fileSink } from "../../dist/core/archive/file-sink.js";
import { ZipWriter } from "../../dist/core/archive/zip-writer.js";

const [ending, smallFile, bigFile, zipPath] = process.argv.slice(2);
const mtime = new Date();
const sink = await fileSink(zipPath);
const zip = new ZipWriter(sink);
for (let i = 0; i < 50; i++) zip.addFile(`small-${i}.txt`, smallFile, { size: 100_000, mtime, mode: 0o644 });
zip.addFile("big.log", bigFile, { size: 8 * 1024 * 1024, mtime, mode: 0o644 });
if (ending === "fail") {
  zip.addStream("db.sql", (async function* () {
    yield Buffer.from("rows\n");
    throw new Error("dump failed");
  })(), { mtime, mode: 0o644 }).catch(() => {});
} else {
  zip.addStream("db.sql", Readable.from(["rows\n"]), { mtime, mode: 0o644 });
}
for (let i = 0; i < 50; i++) zip.addFile(`later-${i}.txt`, smallFile, { size: 100_000, mtime, mode: 0o644 });
if (ending === "abort") {
  await zip.abort();
} else {
  await zip.finish().catch((error) => {
    if (ending !== "fail") throw error;
  });
}
await sink.close();
console.log(`${ending}: done`);
