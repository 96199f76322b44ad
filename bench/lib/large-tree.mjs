import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { seededRandom } from "./random.mjs";
import { makePackageWords, makeVocabulary, textFile } from "./text.mjs";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Over 4 GiB: one entry whose sizes only ZIP64 can record. */
const HUGE_FILE_BYTES = 4.25 * GiB;
const SLICE = 4 * MiB;

/**
 * The pieces of a large tree of `totalBytes`: one incompressible file over 4 GiB (from ~6 GB on),
 * more incompressible 1 GiB files to ~45 %, compressible text in 512 MiB files (dumps, logs) to
 * ~45 %, and the rest (at least 2 %) as small text files (1-64 KiB, 500 per folder).
 */
function planLargeTree(totalBytes) {
  const binaries = [];
  let binaryBytes = 0;
  if (totalBytes >= HUGE_FILE_BYTES + 1.5 * GiB) {
    binaries.push({ path: "site/wwwroot/media/recording.mp4", bytes: HUGE_FILE_BYTES });
    binaryBytes += HUGE_FILE_BYTES;
  }
  for (let i = 0; binaryBytes < 0.45 * totalBytes; i++) {
    const bytes = Math.min(GiB, Math.ceil(0.45 * totalBytes - binaryBytes));
    binaries.push({ path: `site/data/blobs/store-${i}.bin`, bytes });
    binaryBytes += bytes;
  }
  const texts = [];
  let textBytes = 0;
  const textTarget = Math.max(0, Math.min(0.45 * totalBytes, 0.95 * totalBytes - binaryBytes));
  for (let i = 0; textBytes < textTarget; i++) {
    const bytes = Math.min(512 * MiB, Math.ceil(textTarget - textBytes));
    texts.push({ path: i % 2 ? `site/logs/app-${i}.log` : `site/data/export-${i}.sql`, bytes });
    textBytes += bytes;
  }
  return { binaries, texts, smallBytes: Math.max(totalBytes - binaryBytes - textBytes, 0.02 * totalBytes) };
}

/** ~8 MiB of source-like text: big text files are cut from it at random offsets, so they deflate like text. */
function textPool(random) {
  const vocabulary = makeVocabulary(random);
  const pieces = [];
  for (let i = 0; i < 2048; i++) {
    pieces.push(textFile(random, vocabulary, makePackageWords(random, vocabulary), random.pick([".js", ".json", ".md", ".css", ".html"]), 4096));
  }
  return Buffer.from(pieces.join("\n"));
}

/** Writes `bytes` to `file` in 4 MiB slices from `fill`, so memory stays small however big the file. */
function writeLargeFile(file, bytes, fill) {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, "w");
  try {
    const slice = Buffer.allocUnsafeSlow(SLICE);
    for (let written = 0; written < bytes; written += SLICE) {
      fill(slice);
      writeSync(fd, slice, 0, Math.min(SLICE, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Generates (once; a marker written last) the large tree of about `totalBytes` under `dir`, seeded.
 * Returns its folder and facts ({ files, bytes, largestFile }).
 */
export function ensureLargeTree(dir, totalBytes, log = () => {}) {
  const root = path.join(dir, `tree-large-${Math.round(totalBytes / 1e9)}GB-v1`);
  const marker = `${root}.complete.json`;
  if (existsSync(marker)) return { root, ...JSON.parse(readFileSync(marker, "utf8")) };
  rmSync(root, { recursive: true, force: true });
  const started = Date.now();
  const random = seededRandom(0x1a59e);
  const pool = textPool(random);
  const plan = planLargeTree(totalBytes);
  log(`Generating a ${(totalBytes / 1e9).toFixed(0)} GB tree in ${root} (once; kept only with BENCH_KEEP_TREES=1)...`);
  let files = 0;
  let bytes = 0;
  for (const binary of plan.binaries) {
    writeLargeFile(path.join(root, binary.path), binary.bytes, (slice) => random.fillBytes(slice));
    files++;
    bytes += binary.bytes;
    log(`  ${binary.path}: ${(binary.bytes / GiB).toFixed(2)} GiB incompressible`);
  }
  const cutText = (slice) => {
    // 64 KiB runs at random offsets: longer than deflate's 32 KiB window, so no run repeats within reach.
    for (let at = 0; at < slice.length; at += 64 * 1024) {
      const from = random.int(0, pool.length - 64 * 1024);
      pool.copy(slice, at, from, from + Math.min(64 * 1024, slice.length - at));
    }
  };
  for (const text of plan.texts) {
    writeLargeFile(path.join(root, text.path), text.bytes, cutText);
    files++;
    bytes += text.bytes;
  }
  log(`  ${plan.texts.length} text files of up to 512 MiB: ${(plan.texts.reduce((s, t) => s + t.bytes, 0) / GiB).toFixed(2)} GiB`);
  let smallBytes = 0;
  for (let i = 0; smallBytes < plan.smallBytes; i++) {
    const folder = path.join(root, "site/wwwroot/content", `folder-${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(folder, { recursive: true });
    const size = random.int(1024, 64 * 1024);
    const from = random.int(0, pool.length - size);
    writeFileSync(path.join(folder, `page-${i}.html`), pool.subarray(from, from + size));
    files++;
    smallBytes += size;
  }
  bytes += smallBytes;
  const facts = { files, bytes, largestFile: Math.max(...plan.binaries.map((b) => b.bytes)), seconds: (Date.now() - started) / 1000 };
  writeFileSync(marker, JSON.stringify(facts));
  log(`Generated ${files.toLocaleString("en")} files, ${(bytes / 1e9).toFixed(1)} GB in ${facts.seconds.toFixed(0)} s.`);
  return { root, ...facts };
}
