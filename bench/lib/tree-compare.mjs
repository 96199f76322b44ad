import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from "node:fs";
import path from "node:path";

const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);

/** SHA-256 of a file of any size, read in 4 MiB slices. */
function hashFile(file) {
  const hash = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * Every path of a tree with what a restore must reproduce (a file's size, mode, mtime and content
 * hash; a link's target; a folder), in a fixed depth-first order of sorted names, one at a time, so
 * that a million-file tree is compared without holding it.
 */
function* treeFacts(root, relative = []) {
  const names = readdirSync(path.join(root, ...relative)).sort();
  for (const name of names) {
    const parts = [...relative, name];
    const absolute = path.join(root, ...parts);
    const stats = lstatSync(absolute);
    if (stats.isSymbolicLink()) yield [parts, `link ${readlinkSync(absolute)}`];
    else if (stats.isDirectory()) {
      yield [parts, "dir"];
      yield* treeFacts(root, parts);
    } else {
      yield [parts, `file ${stats.size} ${(stats.mode & 0o7777).toString(8)} ${Math.round(stats.mtimeMs)} ${hashFile(absolute)}`];
    }
  }
}

/** Orders paths as treeFacts yields them: by name, folder by folder. */
function comparePaths(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

/**
 * Compares a restored tree with its source, walking both side by side. Returns the number of
 * paths compared and up to `limit` differences, each saying what was expected and what was found.
 */
export function compareTrees(expectedRoot, actualRoot, limit = 3) {
  const expected = treeFacts(expectedRoot);
  const actual = treeFacts(actualRoot);
  const problems = [];
  let differences = 0;
  let compared = 0;
  let e = expected.next();
  let a = actual.next();
  const note = (text) => (differences++ < limit ? problems.push(text) : undefined);
  while (!e.done || !a.done) {
    const order = e.done ? 1 : a.done ? -1 : comparePaths(e.value[0], a.value[0]);
    if (order === 0) {
      compared++;
      if (e.value[1] !== a.value[1]) note(`${e.value[0].join("/")}: expected ${e.value[1]}, got ${a.value[1]}`);
      e = expected.next();
      a = actual.next();
    } else if (order < 0) {
      note(`${e.value[0].join("/")}: missing`);
      e = expected.next();
    } else {
      note(`${a.value[0].join("/")}: not in the source tree`);
      a = actual.next();
    }
  }
  return { compared, differences, problems };
}
