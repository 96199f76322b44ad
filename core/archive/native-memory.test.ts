import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { LibdeflateBinding } from "./libdeflate-binding.js";
import { MallocTrimmer } from "./native-memory.js";

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "core", "archive");
const moduleUrl = (name: string) => pathToFileURL(path.join(dist, name)).href;
const MiB = 1024 * 1024;

/**
 * In a fresh process (malloc's settings are the process's), with the binding
 * loaded as a backup loads it: how much resident anonymous memory (MiB) `work`
 * leaves behind once the buffers it allocated are collected.
 */
function residentGrowthAfter(work: string, { keepSmall, setup = "" }: { keepSmall: boolean; setup?: string }): number {
  const script = `
    import { readFileSync } from "node:fs";
    import { keepMemorySmall } from ${JSON.stringify(moduleUrl("native-memory.js"))};
    import { deflateEngine } from ${JSON.stringify(moduleUrl("deflate-engine.js"))};
    const resident = () => Number(readFileSync("/proc/self/status", "utf8").match(/RssAnon:\\s+(\\d+)/)[1]) * 1024;
    if (${keepSmall}) keepMemorySmall();
    const engine = deflateEngine("libdeflate");
    // V8 frees collected buffers' memory on a background thread, after the collection.
    const collect = async () => { globalThis.gc(); globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 100)); };
    ${setup}
    const before = resident();
    ${work}
    console.log(resident() - before);
  `;
  const env = { PATH: process.env.PATH ?? "" };
  return Number(execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8", env }).trim()) / MiB;
}

// Buffers freed below one still in use: the arena cannot shrink from its top, so their pages stay unless handed back.
const freedBelowOneInUse = (count: number, size: number) => `
  let buffers = [];
  for (let i = 0; i < ${count}; i++) {
    const buffer = Buffer.allocUnsafeSlow(${size});
    buffer.fill(i);
    buffers.push(buffer);
  }
  const last = buffers.pop();
  buffers = undefined;
  await collect();
  globalThis.keep = last;
`;

describe("malloc kept small (the CLI's and the Action's processes)", () => {
  it("gives back the pages of MiB-sized buffers once they are freed, after a larger one was freed first", () => {
    // glibc raises its threshold for pages of their own to the largest block freed (here 8 MiB), so later 1 MiB buffers land in the arena.
    const setup = `
      let large = Buffer.allocUnsafeSlow(8 * 1024 * 1024);
      large.fill(1);
      large = null;
      await collect();
    `;
    const work = freedBelowOneInUse(96, MiB);
    expect(residentGrowthAfter(work, { keepSmall: false, setup })).toBeGreaterThan(64);
    expect(residentGrowthAfter(work, { keepSmall: true, setup })).toBeLessThan(16);
  });

  it("trimMemory hands back the pages of small buffers freed inside an arena", () => {
    const freed = freedBelowOneInUse(1500, 64 * 1024);
    expect(residentGrowthAfter(freed, { keepSmall: true })).toBeGreaterThan(64);
    expect(residentGrowthAfter(`${freed}\nengine.libdeflate.trimMemory();`, { keepSmall: true })).toBeLessThan(16);
  });
});

describe("MallocTrimmer", () => {
  it("is due once per stretch of output, however often it is asked", () => {
    let trims = 0;
    const binding = { trimMemory: () => ((trims += 1), true) } as unknown as LibdeflateBinding;
    const trimmer = new MallocTrimmer(binding, 64 * MiB);
    for (let position = 0; position <= 640 * MiB; position += 8 * MiB) if (trimmer.due(position)) trimmer.trim(position);
    expect(trims).toBe(10);
  });
});
