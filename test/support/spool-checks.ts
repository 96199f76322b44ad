import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/** Descriptors this process has open: a spool that spilled to a temp file holds one until it is closed. */
export function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Temp folders removed after the test file's last test. */
export function tempFolders(): (prefix: string) => string {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });
  return (prefix) => {
    const folder = mkdtempSync(path.join(os.tmpdir(), prefix));
    folders.push(folder);
    return folder;
  };
}
