import { existsSync, mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync, symlinkSync } from "node:fs";
import path from "node:path";
import { seededRandom } from "./random.mjs";
import { makeVocabulary, makePackageWords, textFile } from "./text.mjs";

const MB = 1024 * 1024;

/**
 * Bench trees. `base` is a few hundred MB: ~35k small text files laid out like
 * node_modules plus a few large incompressible binaries, some with telling
 * extensions and one `.bin` without. `large` is the same kind of app grown to
 * ~2 GB: twice the packages, and bigger media and data files, which is where
 * real apps grow.
 */
export const PROFILES = {
  base: {
    seed: 20240611,
    packages: 1150,
    binaries: [
      { path: "site/wwwroot/media/intro.mp4", bytes: 48 * MB },
      { path: "site/wwwroot/media/hero.png", bytes: 6 * MB },
      { path: "site/wwwroot/downloads/archive.zip", bytes: 24 * MB },
      { path: "site/data/blob-store.bin", bytes: 64 * MB },
      { path: "site/wwwroot/fonts/inter.woff2", bytes: 1 * MB },
    ],
    images: 120,
  },
  large: {
    seed: 20240612,
    packages: 2300,
    binaries: [
      { path: "site/wwwroot/media/intro.mp4", bytes: 480 * MB },
      { path: "site/wwwroot/media/tour.webm", bytes: 300 * MB },
      { path: "site/wwwroot/media/hero.png", bytes: 12 * MB },
      { path: "site/wwwroot/downloads/archive.zip", bytes: 240 * MB },
      { path: "site/data/blob-store.bin", bytes: 640 * MB },
      { path: "site/wwwroot/fonts/inter.woff2", bytes: 1 * MB },
    ],
    images: 240,
  },
};

const FILE_MIX = [
  [".js", 0.36],
  [".d.ts", 0.2],
  [".js.map", 0.14],
  [".json", 0.08],
  [".md", 0.07],
  [".min.js", 0.06],
  [".css", 0.05],
  [".html", 0.04],
];

function pickExtension(random) {
  let r = random.next();
  for (const [extension, share] of FILE_MIX) {
    if (r < share) return extension;
    r -= share;
  }
  return ".js";
}

/** Writes `bytes` incompressible bytes in 4 MiB slices so memory stays small. */
function writeRandomFile(file, bytes, random) {
  const fd = openSync(file, "w");
  try {
    const slice = Buffer.allocUnsafeSlow(4 * MB);
    for (let written = 0; written < bytes; written += slice.length) {
      random.fillBytes(slice);
      writeSync(fd, slice, 0, Math.min(slice.length, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
}

function generate(root, profile) {
  const random = seededRandom(profile.seed);
  const vocabulary = makeVocabulary(random);
  const stats = { files: 0, bytes: 0 };
  const write = (relative, content) => {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    stats.files++;
    stats.bytes += Buffer.byteLength(content);
  };

  for (let p = 0; p < profile.packages; p++) {
    const words = makePackageWords(random, vocabulary);
    const scope = random.next() < 0.2 ? `@${words[0]}/` : "";
    const base = `site/wwwroot/node_modules/${scope}${words[1]}-${p}`;
    const fileCount = Math.max(3, Math.round(random.logNormal(22, 0.9)));
    const dirs = ["", "lib/", "dist/", "src/", "dist/esm/", "lib/internal/"];
    write(`${base}/package.json`, textFile(random, vocabulary, words, ".json", random.int(400, 2000)));
    for (let f = 0; f < fileCount; f++) {
      const extension = pickExtension(random);
      const bytes = Math.min(600_000, Math.max(60, Math.round(random.logNormal(1700, 1.35))));
      const name = `${random.pick(dirs)}${words[random.zipf(words.length)]}${f}${extension}`;
      write(`${base}/${name}`, textFile(random, vocabulary, words, extension, bytes));
    }
  }

  const appWords = makePackageWords(random, vocabulary, 300);
  for (let i = 0; i < 400; i++) {
    const extension = random.pick([".html", ".css", ".js", ".json"]);
    write(`site/wwwroot/app/${appWords[i % appWords.length]}-${i}${extension}`, textFile(random, vocabulary, appWords, extension, random.int(500, 40_000)));
  }
  for (let i = 0; i < profile.images; i++) {
    const file = path.join(root, `site/wwwroot/images/photo-${i}.${random.pick(["jpg", "png", "webp"])}`);
    mkdirSync(path.dirname(file), { recursive: true });
    const bytes = random.int(20_000, 400_000);
    writeRandomFile(file, bytes, random);
    stats.files++;
    stats.bytes += bytes;
  }
  for (const binary of profile.binaries) {
    const file = path.join(root, binary.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeRandomFile(file, binary.bytes, random);
    stats.files++;
    stats.bytes += binary.bytes;
  }
  mkdirSync(path.join(root, "site/wwwroot/uploads/empty"), { recursive: true });
  // A link to one small file: `zip -r` follows links, so a link to a folder would make it archive more.
  symlinkSync("../app/index.html", path.join(root, "site/wwwroot/media/index-link.html"));
  write("site/wwwroot/app/index.html", textFile(random, vocabulary, appWords, ".html", 3000));
  return stats;
}

/**
 * Returns the tree for `profileName`, generating it on first use under
 * `cacheDir`. A marker file written last makes an interrupted generation start
 * over instead of being reused half-written.
 */
export function ensureTree(cacheDir, profileName, log = () => {}) {
  const profile = PROFILES[profileName];
  if (!profile) throw new Error(`Unknown bench tree "${profileName}"; use one of ${Object.keys(PROFILES).join(", ")}.`);
  const root = path.join(cacheDir, `tree-${profileName}-v2`);
  const marker = `${root}.complete.json`;
  if (existsSync(marker)) return root;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  log(`Generating the ${profileName} bench tree in ${root} (once; cached)...`);
  const started = Date.now();
  const stats = generate(root, profile);
  writeFileSync(marker, JSON.stringify({ ...stats, seconds: (Date.now() - started) / 1000 }));
  log(`Generated ${stats.files} files, ${(stats.bytes / MB).toFixed(0)} MiB in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  return root;
}
