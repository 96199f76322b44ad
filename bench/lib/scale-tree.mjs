import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { seededRandom } from "./random.mjs";
import { makePackageWords, makeVocabulary, textFile } from "./text.mjs";

/** Files per folder of a generated small-file tree, as in the scale bars' description of a home. */
export const FILES_PER_FOLDER = 500;
/** Folders per top-level group, so that no folder holds thousands of folders either. */
const FOLDERS_PER_GROUP = 40;
const EXTENSIONS = [".js", ".js", ".js", ".d.ts", ".d.ts", ".json", ".md", ".css", ".html"];

/**
 * Bytes a tree of `files` small files takes: on tmpfs every file takes whole 4 KiB pages plus its
 * inode; a disk file system is about the same. Used to say up front whether there is room.
 */
export const SMALL_FILE_FOOTPRINT = 4.6 * 1024;

/**
 * Generates (once; cached under `cacheDir`, with a marker written last so that an interrupted
 * generation starts over) a tree of `files` small text files, 1-4 KiB each, ~500 per folder, with
 * the statistics of source code (bench/lib/text.mjs: it deflates 3-5 x). Seeded: the same tree on
 * every machine. Returns the tree's folder and its facts ({ files, bytes }).
 */
export function ensureSmallFileTree(cacheDir, files, log = () => {}) {
  const root = path.join(cacheDir, `tree-small-${files}-v1`);
  const marker = `${root}.complete.json`;
  if (existsSync(marker)) return { root, ...JSON.parse(readFileSync(marker, "utf8")) };
  rmSync(root, { recursive: true, force: true });
  log(`Generating ${files.toLocaleString("en")} small files in ${root} (once; cached)...`);
  const started = Date.now();
  const random = seededRandom(0x5ca1e + files);
  const vocabulary = makeVocabulary(random);
  let bytes = 0;
  for (let folder = 0; folder * FILES_PER_FOLDER < files; folder++) {
    // Each folder is a "package": its files share identifiers, as real modules do.
    const words = makePackageWords(random, vocabulary);
    const dir = path.join(root, `group-${Math.floor(folder / FOLDERS_PER_GROUP)}`, `${words[0]}-${folder}`);
    mkdirSync(dir, { recursive: true });
    const count = Math.min(FILES_PER_FOLDER, files - folder * FILES_PER_FOLDER);
    for (let i = 0; i < count; i++) {
      const extension = random.pick(EXTENSIONS);
      const content = textFile(random, vocabulary, words, extension, random.int(1024, 4096 - 200));
      writeFileSync(path.join(dir, `${words[random.zipf(words.length)]}-${i}${extension}`), content);
      bytes += Buffer.byteLength(content);
    }
    if (folder % 200 === 199) log(`  ${((folder + 1) * FILES_PER_FOLDER).toLocaleString("en")} files...`);
  }
  const facts = { files, bytes, seconds: (Date.now() - started) / 1000 };
  writeFileSync(marker, JSON.stringify(facts));
  log(`Generated ${files.toLocaleString("en")} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB in ${facts.seconds.toFixed(0)} s.`);
  return { root, ...facts };
}

/**
 * A copy of the checkout's own node_modules (after `npm ci`: ~42k files of a real app, links
 * included), made once per package-lock.json under `cacheDir`: a real tree, with the big
 * compressible files (a Node binary, bundled compilers) that a generated tree lacks, and stable
 * while the benchmark runs. Returns undefined when the checkout has no node_modules.
 */
export function ensureNodeModulesTree(cacheDir, repoRoot, log = () => {}) {
  const source = path.join(repoRoot, "node_modules");
  if (!existsSync(source)) return undefined;
  const lock = existsSync(path.join(repoRoot, "package-lock.json")) ? readFileSync(path.join(repoRoot, "package-lock.json")) : "";
  const key = createHash("sha256").update(lock).digest("hex").slice(0, 12);
  const root = path.join(cacheDir, `tree-node_modules-${key}`);
  const marker = `${root}.complete.json`;
  if (existsSync(marker)) return { root, ...JSON.parse(readFileSync(marker, "utf8")) };
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  log(`Copying ${source} into ${root} (once per package-lock.json)...`);
  // cp -a keeps links as links, modes and mtimes; the trailing "/." copies the contents of a linked node_modules.
  execFileSync("cp", ["-a", `${realpathSync(source)}/.`, root]);
  const [files, bytes] = execFileSync("sh", ["-c", "find . -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n, s}'"], { cwd: root, encoding: "utf8" })
    .trim()
    .split(" ")
    .map(Number);
  const facts = { files, bytes };
  writeFileSync(marker, JSON.stringify(facts));
  log(`Copied ${files.toLocaleString("en")} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB.`);
  return { root, ...facts };
}
