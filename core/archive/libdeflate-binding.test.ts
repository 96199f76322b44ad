import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { libdeflateBindingFile } from "./deflate-engine.js";
import { INFLATE_BAD_DATA, INFLATE_NO_ROOM, loadLibdeflate, type LibdeflateBinding } from "./libdeflate-binding.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261207);
const temp = mkdtempSync(path.join(os.tmpdir(), "libdeflate-binding-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The checkout's binding: the test setup (scripts/setup-tests.sh) installs gcc and libdeflate-dev, and the build makes it. */
function binding(): LibdeflateBinding {
  const file = libdeflateBindingFile();
  if (file === undefined) throw new Error("dist/native/libdeflate.node was not built: run scripts/setup-tests.sh (it installs gcc and libdeflate-dev), then npm run build.");
  const loaded = loadLibdeflate(file);
  if (typeof loaded === "string") throw new Error(loaded);
  return loaded;
}

/** Content with the mixes a home has: text that repeats, text that does not, random bytes, runs of one byte. */
const content = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 200 }).map((text) => Buffer.from(text.repeat(1 + (text.length % 7)))),
      fc.uint8Array({ maxLength: 5000 }).map((bytes) => Buffer.from(bytes)),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 70_000 })).map(([byte, length]) => Buffer.alloc(length, byte)),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts));

describe("libdeflate's binding", () => {
  it("deflates any content at any level into raw deflate that inflates back to it, with zlib's CRC-32", () => {
    const libdeflate = binding();
    fc.assert(
      fc.property(content, fc.integer({ min: 0, max: 12 }), (input, level) => {
        const output = Buffer.alloc(input.length + (input.length >> 3) + 1024);
        const length = libdeflate.deflate(input, level, output);
        expect(length).toBeGreaterThan(0);
        expect(inflateRawSync(output.subarray(0, length)).equals(input)).toBe(true);
        expect(libdeflate.crc32(input)).toBe(crc32(input));
      }),
      { seed, numRuns: 150 },
    );
  });

  it("inflates what libdeflate or zlib deflated back to the input, given exactly its room, and says when it needs more", () => {
    const libdeflate = binding();
    fc.assert(
      fc.property(content, fc.integer({ min: 1, max: 12 }), fc.boolean(), (input, level, byZlib) => {
        let deflated: Buffer;
        if (byZlib) deflated = deflateRawSync(input, { level: Math.min(level, 9) });
        else {
          const output = Buffer.alloc(input.length + (input.length >> 3) + 1024);
          deflated = output.subarray(0, libdeflate.deflate(input, level, output));
        }
        const exact = Buffer.alloc(input.length + 8, 0xa5);
        expect(libdeflate.inflate(deflated, exact.subarray(0, input.length))).toBe(input.length);
        expect(exact.subarray(0, input.length).equals(input)).toBe(true);
        // Nothing written past the room given.
        expect(exact.subarray(input.length).every((byte) => byte === 0xa5)).toBe(true);
        if (input.length > 0) expect(libdeflate.inflate(deflated, Buffer.alloc(input.length - 1))).toBe(INFLATE_NO_ROOM);
      }),
      { seed, numRuns: 150 },
    );
  });

  it("never answers a length for a truncated stream, and for any bytes gives bad data, no room or what fits in the room", () => {
    const libdeflate = binding();
    const input = Buffer.from("a stream cut short ".repeat(500));
    const deflated = deflateRawSync(input);
    // Read past its end, a cut stream may also run on into garbage longer than the room.
    for (const cut of [1, 2, deflated.length >> 1, deflated.length - 1]) expect([INFLATE_BAD_DATA, INFLATE_NO_ROOM]).toContain(libdeflate.inflate(deflated.subarray(0, cut), Buffer.alloc(input.length)));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 70_000 }), (bytes, room) => {
        const output = Buffer.alloc(room + 4, 0x5a);
        const answer = libdeflate.inflate(bytes, output.subarray(0, room));
        expect(answer === INFLATE_BAD_DATA || answer === INFLATE_NO_ROOM || (answer >= 0 && answer <= room)).toBe(true);
        expect(output.subarray(room).every((byte) => byte === 0x5a)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it("answers 0, writing nothing past the room it was given, when the output does not fit", () => {
    const libdeflate = binding();
    const input = randomBytes(50_000);
    const output = Buffer.alloc(40_000 + 16, 0xa5);
    expect(libdeflate.deflate(input, 4, output.subarray(0, 40_000))).toBe(0);
    expect(output.subarray(40_000).every((byte) => byte === 0xa5)).toBe(true);
  });

  it("refuses what is not bytes and a level outside 0-12, with an error rather than a crash", () => {
    const libdeflate = binding();
    const output = Buffer.alloc(1024);
    expect(() => libdeflate.deflate("text" as unknown as Uint8Array, 4, output)).toThrow(TypeError);
    expect(() => libdeflate.deflate(Buffer.from("text"), 4, new Uint16Array(8) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => libdeflate.deflate(Buffer.from("text"), 13, output)).toThrow(RangeError);
    expect(() => libdeflate.deflate(Buffer.from("text"), -1, output)).toThrow(RangeError);
    expect(() => libdeflate.crc32({} as Uint8Array)).toThrow(TypeError);
    expect(() => libdeflate.inflate(Buffer.from("text"), [] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it("says why a file cannot be the binding: missing, not a library, or another library", () => {
    expect(loadLibdeflate(path.join(temp, "missing.node"))).toMatch(/missing\.node could not be loaded/);
    const garbage = path.join(temp, "garbage.node");
    writeFileSync(garbage, randomBytes(4096));
    expect(loadLibdeflate(garbage)).toMatch(/garbage\.node could not be loaded/);
    // A real Node-API library that is not ours: ssh2's crypto binding (scripts/setup-tests.sh builds it).
    const other = path.join(path.dirname(libdeflateBindingFile()!), "..", "..", "node_modules", "ssh2", "lib", "protocol", "crypto", "build", "Release", "sshcrypto.node");
    const copy = path.join(temp, "other.node");
    copyFileSync(other, copy);
    expect(loadLibdeflate(copy)).toMatch(/is not app-backup's libdeflate binding/);
  });
});
