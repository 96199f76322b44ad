import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { thrownAppBackupError as thrown } from "../../test/support/app-backup-error.js";
import { deflateChoiceFromEnvironment, deflateEngine, libdeflateBindingFile } from "./deflate-engine.js";

const temp = mkdtempSync(path.join(os.tmpdir(), "deflate-engine-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const checkoutBinding = () => {
  const file = libdeflateBindingFile();
  if (file === undefined) throw new Error("dist/native/libdeflate.node was not built: run scripts/setup-tests.sh, then npm run build.");
  return file;
};

describe("APP_BACKUP_DEFLATE", () => {
  it("chooses zlib, libdeflate or auto, whatever the case and spaces; auto when unset or empty", () => {
    expect(deflateChoiceFromEnvironment({})).toBe("auto");
    expect(deflateChoiceFromEnvironment({ APP_BACKUP_DEFLATE: "" })).toBe("auto");
    expect(deflateChoiceFromEnvironment({ APP_BACKUP_DEFLATE: " Auto " })).toBe("auto");
    expect(deflateChoiceFromEnvironment({ APP_BACKUP_DEFLATE: "ZLIB" })).toBe("zlib");
    expect(deflateChoiceFromEnvironment({ APP_BACKUP_DEFLATE: "libdeflate" })).toBe("libdeflate");
  });

  it("refuses any other value, naming it and the values it takes", () => {
    const error = thrown(() => deflateChoiceFromEnvironment({ APP_BACKUP_DEFLATE: "zstd" }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain('"zstd"');
    expect(error.hint).toMatch(/zlib, libdeflate or auto/);
  });
});

describe("the binding's file", () => {
  it("is dist/native/libdeflate.node of the package the module runs from, found from any folder inside it", () => {
    const pkg = path.join(temp, "installed", "node_modules", "app-backup");
    mkdirSync(path.join(pkg, "dist", "native"), { recursive: true });
    mkdirSync(path.join(pkg, "dist", "cli", "chunks"), { recursive: true });
    writeFileSync(path.join(pkg, "package.json"), "{}");
    copyFileSync(checkoutBinding(), path.join(pkg, "dist", "native", "libdeflate.node"));
    expect(libdeflateBindingFile(path.join(pkg, "dist", "cli", "chunks"))).toBe(path.join(pkg, "dist", "native", "libdeflate.node"));
    expect(libdeflateBindingFile(pkg)).toBe(path.join(pkg, "dist", "native", "libdeflate.node"));
  });

  it("is none when the package has not built it, though a folder above has one", () => {
    const outer = path.join(temp, "outer");
    mkdirSync(path.join(outer, "dist", "native"), { recursive: true });
    writeFileSync(path.join(outer, "package.json"), "{}");
    copyFileSync(checkoutBinding(), path.join(outer, "dist", "native", "libdeflate.node"));
    const inner = path.join(outer, "vendor", "app-backup");
    mkdirSync(path.join(inner, "dist", "cli"), { recursive: true });
    writeFileSync(path.join(inner, "package.json"), "{}");
    expect(libdeflateBindingFile(path.join(inner, "dist", "cli"))).toBeUndefined();
  });
});

describe("the engine", () => {
  it("is libdeflate in this checkout, which the build gave a binding, with its version", () => {
    const engine = deflateEngine("auto");
    expect(engine.libdeflateFile).toBe(checkoutBinding());
    expect(engine.name).toMatch(/^libdeflate \d+\.\d+ /);
    expect(deflateEngine("libdeflate").libdeflateFile).toBe(checkoutBinding());
  });

  it("is zlib when chosen, or, for auto, when there is no usable binding", () => {
    const garbage = path.join(temp, "garbage.node");
    writeFileSync(garbage, "not a library");
    for (const engine of [deflateEngine("zlib"), deflateEngine("auto", () => undefined), deflateEngine("auto", () => garbage)]) {
      expect(engine.libdeflateFile).toBeUndefined();
      expect(engine.libdeflate).toBeUndefined();
      expect(engine.name).toBe(`zlib ${process.versions.zlib} (Node.js)`);
    }
  });

  it("fails, saying why and how to build it, when libdeflate is required and cannot be had", () => {
    const missing = thrown(() => deflateEngine("libdeflate", () => undefined));
    expect(missing.code).toBe("CONFIG_INVALID");
    expect(missing.message).toMatch(/no binding was built/);
    expect(missing.hint).toMatch(/scripts\/build-libdeflate-binding\.sh.*gcc and libdeflate-dev/);
    const garbage = path.join(temp, "garbage-2.node");
    writeFileSync(garbage, "not a library");
    expect(thrown(() => deflateEngine("libdeflate", () => garbage)).message).toMatch(/garbage-2\.node could not be loaded/);
  });
});
