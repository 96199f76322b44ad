import { describe, expect, it } from "vitest";
import { InsertStatementBuilder, literalKindFor, type LiteralKind } from "./insert-encoder.js";

/** A text-protocol row packet body: each value length-coded, NULL as 0xfb. */
function packetRow(values: Array<Buffer | null>): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) {
    if (value === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const length = value.length;
    if (length < 0xfb) parts.push(Buffer.from([length]));
    else if (length < 0x10000) parts.push(Buffer.from([0xfc, length & 0xff, length >> 8]));
    else if (length < 0x1000000) parts.push(Buffer.from([0xfd, length & 0xff, (length >> 8) & 0xff, length >> 16]));
    else {
      const header = Buffer.alloc(9);
      header[0] = 0xfe;
      header.writeUInt32LE(length, 1);
      parts.push(header);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

const KINDS: LiteralKind[] = ["number", "text", "binary", "text"];

describe("InsertStatementBuilder", () => {
  it("escapes text byte by byte, writes binaries as hex and keeps NULL apart from empty", () => {
    const builder = new InsertStatementBuilder("INSERT INTO `t` (`a`,`b`,`c`,`d`) VALUES ", KINDS);
    builder.addRow([Buffer.from("-12.50"), Buffer.from("it's a \\ \n\r\u001a\u0000 😀"), Buffer.from([0, 255, 16]), null]);
    builder.addRow([Buffer.from("0"), Buffer.from(""), Buffer.alloc(0), Buffer.from("x")]);
    expect(builder.finish()!.toString("utf8")).toBe(
      "INSERT INTO `t` (`a`,`b`,`c`,`d`) VALUES (-12.50,'it\\'s a \\\\ \\n\\r\\Z\\0 😀',0x00ff10,NULL),(0,'','','x');\n",
    );
    expect(builder.finish()).toBeUndefined();
  });

  it("reads row packets in place the same way, for every length encoding", () => {
    const rows: Array<Array<Buffer | null>> = [
      [Buffer.from("1"), Buffer.from("short"), Buffer.from([1, 2, 3]), null],
      [Buffer.from("2"), Buffer.alloc(300, "a"), Buffer.alloc(70_000, 7), Buffer.from("'")],
      [Buffer.from("3"), null, Buffer.alloc(16_777_216 + 5, 9), Buffer.alloc(251, "z")],
    ];
    const fromValues = new InsertStatementBuilder("INSERT INTO `t` VALUES ", KINDS, 64 << 20);
    const fromPackets = new InsertStatementBuilder("INSERT INTO `t` VALUES ", KINDS, 64 << 20);
    for (const row of rows) {
      fromValues.addRow(row);
      const packet = Buffer.concat([Buffer.from("HEAD"), packetRow(row)]);
      fromPackets.addPacketRow(packet, 4, row.length);
    }
    const expected = fromValues.finish()!;
    const actual = fromPackets.finish()!;
    expect(actual.length).toBe(expected.length);
    expect(actual.equals(expected)).toBe(true);
  });

  it("closes a statement once it reaches the size limit, so statements stay near 1 MB", () => {
    const builder = new InsertStatementBuilder("INSERT INTO `t` VALUES ", ["text"], 1000);
    const statements: Buffer[] = [];
    for (let row = 0; row < 100; row++) {
      const statement = builder.addRow([Buffer.alloc(95, "x")]);
      if (statement) statements.push(statement);
    }
    const last = builder.finish();
    if (last) statements.push(last);
    expect(statements.length).toBe(10);
    for (const statement of statements) expect(statement.length).toBeLessThan(1000 + 100 + 30);
    expect(statements.map((statement) => statement.toString().match(/\),\(/g)?.length ?? 0).reduce((a, b) => a + b + 1, 0)).toBe(100);
  });

  it("picks the literal form from column metadata", () => {
    expect(literalKindFor({ columnType: 246, characterSet: 63 })).toBe("number"); // DECIMAL
    expect(literalKindFor({ columnType: 12, characterSet: 63 })).toBe("text"); // DATETIME
    expect(literalKindFor({ columnType: 245, characterSet: 63 })).toBe("text"); // MySQL JSON
    expect(literalKindFor({ columnType: 16, characterSet: 63 })).toBe("binary"); // BIT
    expect(literalKindFor({ columnType: 252, characterSet: 63 })).toBe("binary"); // BLOB
    expect(literalKindFor({ columnType: 252, characterSet: 45 })).toBe("text"); // TEXT utf8mb4
    expect(literalKindFor({ columnType: 253, characterSet: 8 })).toBe("text"); // VARCHAR latin1
  });
});
