/**
 * Which deflate the archive runs. libdeflate, through the binding the package
 * builds when gcc and libdeflate-dev are there (dist/native/libdeflate.node),
 * deflates the files read whole and inflates the entries a restore reads whole;
 * without it, or with APP_BACKUP_DEFLATE=zlib, Node's zlib does. Blocks of
 * large files and streams are zlib's either way: joining blocks into one entry
 * needs a block that ends on a sync flush and a dictionary, which libdeflate
 * does not offer, and a large entry is inflated as it streams. Main thread only.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppBackupError } from "../errors.js";
import { loadLibdeflate, type LibdeflateBinding } from "./libdeflate-binding.js";
import { bindingLoaded } from "./native-memory.js";

/** "auto": libdeflate when its binding loads, else zlib; "libdeflate": libdeflate or an error. */
export type DeflateChoice = "auto" | "zlib" | "libdeflate";

export interface DeflateEngine {
  /** The binding's file, which each worker loads; undefined when zlib deflates. */
  libdeflateFile?: string;
  /** The binding, loaded on this thread, for the work too small for a worker. */
  libdeflate?: LibdeflateBinding;
  /** What deflates, for the log: "libdeflate 1.14 for files read whole and zlib 1.3.1 for …" or "zlib 1.3.1 (Node.js)". */
  name: string;
}

const BINDING = path.join("dist", "native", "libdeflate.node");

/** The choice APP_BACKUP_DEFLATE makes ("auto" when unset); an error for any other value. */
export function deflateChoiceFromEnvironment(env: NodeJS.ProcessEnv = process.env): DeflateChoice {
  const value = env.APP_BACKUP_DEFLATE?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "auto") return "auto";
  if (value === "zlib" || value === "libdeflate") return value;
  throw new AppBackupError(
    "CONFIG_INVALID",
    `APP_BACKUP_DEFLATE is "${env.APP_BACKUP_DEFLATE}", which is not a deflate app-backup knows.`,
    "Set it to zlib, libdeflate or auto (the default: libdeflate when its binding is built, else zlib), or unset it.",
  );
}

/**
 * The package's binding: dist/native/libdeflate.node in the first folder
 * above this module that has a package.json (the checkout, or the installed
 * package, whether this module runs from its source, dist/ or a bundle).
 */
export function libdeflateBindingFile(from: string = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) {
      const file = path.join(dir, BINDING);
      return existsSync(file) ? file : undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

const zlibEngine = (): DeflateEngine => ({ name: `zlib ${process.versions.zlib} (Node.js)` });

/**
 * The engine `choice` gives, with the binding `findBinding` finds; for "libdeflate", a
 * CONFIG_INVALID error saying why the binding cannot be had.
 */
export function deflateEngine(choice: DeflateChoice = deflateChoiceFromEnvironment(), findBinding: () => string | undefined = libdeflateBindingFile): DeflateEngine {
  if (choice === "zlib") return zlibEngine();
  const bindingFile = findBinding();
  const binding = bindingFile === undefined ? `no binding was built (${BINDING})` : loadLibdeflate(bindingFile);
  if (typeof binding !== "string") {
    bindingLoaded(binding);
    return { libdeflateFile: bindingFile, libdeflate: binding, name: `libdeflate ${binding.version} for files read whole and zlib ${process.versions.zlib} for the blocks of larger files and streams` };
  }
  if (choice === "libdeflate") {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `APP_BACKUP_DEFLATE=libdeflate, but libdeflate cannot be used: ${binding}.`,
      "Build its binding with scripts/build-libdeflate-binding.sh (it needs gcc and libdeflate-dev), or unset APP_BACKUP_DEFLATE to deflate with zlib.",
    );
  }
  return zlibEngine();
}
