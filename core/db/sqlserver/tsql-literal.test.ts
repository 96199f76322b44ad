import { describe, expect, it } from "vitest";
import { encodeValue, floatLiteral, unicodeLiteral, valueKindFor } from "./tsql-literal.js";

describe("T-SQL value encoding", () => {
  it("writes NULL for null in every kind", () => {
    for (const kind of ["integer", "bigint", "exact-numeric", "float", "bit", "string", "binary", "temporal", "guid", "variant"] as const) {
      expect(encodeValue(null, kind)).toBe("NULL");
    }
  });

  it("keeps empty strings distinct from NULL, and empty binaries as 0x", () => {
    expect(encodeValue("", "string")).toBe("N''");
    expect(encodeValue(Buffer.alloc(0), "binary")).toBe("0x");
  });

  it("writes strings as N'' with quotes doubled, characters beyond the BMP as they are", () => {
    expect(encodeValue("O'Neil's", "string")).toBe("N'O''Neil''s'");
    expect(encodeValue("𝄞 music 😀 中文 é", "string")).toBe("N'𝄞 music 😀 中文 é'");
  });

  it("writes control characters and unpaired surrogates as NCHAR(n), so no value spans lines", () => {
    expect(unicodeLiteral("a\r\nb")).toBe("N'a' + NCHAR(13) + NCHAR(10) + N'b'");
    expect(unicodeLiteral("\n")).toBe("NCHAR(10)");
    expect(unicodeLiteral("x\u0000")).toBe("N'x' + NCHAR(0)");
    expect(unicodeLiteral("\udc00x\ud83d")).toBe("NCHAR(56320) + N'x' + NCHAR(55357)");
    expect(unicodeLiteral("GO\nGO")).toBe("N'GO' + NCHAR(10) + N'GO'");
  });

  it("splits $( so sqlcmd never sees a scripting variable in a value", () => {
    expect(unicodeLiteral("cost $(price) or $5 (approx)")).toBe("N'cost $' + N'(price) or $5 (approx)'");
  });

  it("starts long concatenations from nvarchar(max) so SQL Server does not cut them at 4000 characters", () => {
    const long = `${"a".repeat(5000)}\n${"b".repeat(10)}`;
    expect(unicodeLiteral(long)).toBe(`CAST(N'' AS nvarchar(max)) + N'${"a".repeat(5000)}' + NCHAR(10) + N'bbbbbbbbbb'`);
    expect(unicodeLiteral("a".repeat(5000))).toBe(`N'${"a".repeat(5000)}'`);
  });

  it("writes binary as upper-case 0x hex", () => {
    expect(encodeValue(Buffer.from([0, 1, 0xab, 0xff]), "binary")).toBe("0x0001ABFF");
    expect(encodeValue(new Uint8Array([0xde, 0xad]), "binary")).toBe("0xDEAD");
  });

  it("writes exact numerics as the server's text, unquoted, digits untouched", () => {
    expect(encodeValue("12345678901234567890123456789.123456789", "exact-numeric")).toBe("12345678901234567890123456789.123456789");
    expect(encodeValue("-0.0100", "exact-numeric")).toBe("-0.0100");
    expect(encodeValue("-922337203685477.5808", "exact-numeric")).toBe("-922337203685477.5808");
    expect(encodeValue("-9223372036854775808", "bigint")).toBe("-9223372036854775808");
    expect(encodeValue(-2147483648, "integer")).toBe("-2147483648");
    expect(() => encodeValue("1; DROP TABLE x", "exact-numeric")).toThrow(/not a number/);
  });

  it("writes floats as the shortest text that reads back as the same double, always with an exponent", () => {
    const cases: Array<[number, string]> = [
      [0.1, "0.1E0"],
      [1 / 3, "0.3333333333333333E0"],
      [0.30000000000000004, "0.30000000000000004E0"],
      [1.7976931348623157e308, "1.7976931348623157E308"],
      [-2.2250738585072014e-308, "-2.2250738585072014E-308"],
      [1e21, "1E21"],
      [123456789012, "123456789012E0"],
      [0, "0E0"],
      [-0, "-0E0"],
      [3.4028234663852886e38, "3.4028234663852886E38"],
    ];
    for (const [value, literal] of cases) {
      expect(floatLiteral(value)).toBe(literal);
      expect(Number(literal)).toBe(value);
    }
    expect(() => floatLiteral(Number.NaN)).toThrow(/cannot hold/);
    expect(() => floatLiteral(Number.POSITIVE_INFINITY)).toThrow(/cannot hold/);
  });

  it("writes bit as 1/0, and dates, times and GUIDs as quoted text", () => {
    expect(encodeValue(true, "bit")).toBe("1");
    expect(encodeValue(false, "bit")).toBe("0");
    expect(encodeValue("2024-02-29 23:59:59.9999999 +14:00", "temporal")).toBe("'2024-02-29 23:59:59.9999999 +14:00'");
    expect(encodeValue("2024-02-29T23:59:59.997", "temporal")).toBe("'2024-02-29T23:59:59.997'");
    expect(encodeValue("6F9619FF-8B86-D011-B42D-00C04FC964FF", "guid")).toBe("'6F9619FF-8B86-D011-B42D-00C04FC964FF'");
  });

  it("maps catalog types to value kinds, alias types through their system type", () => {
    expect(valueKindFor("nvarchar", "Phone")).toBe("string");
    expect(valueKindFor("nvarchar", "sysname")).toBe("string");
    expect(valueKindFor("money", "money")).toBe("exact-numeric");
    expect(valueKindFor("datetimeoffset", "datetimeoffset")).toBe("temporal");
    expect(valueKindFor(null, "geography")).toBe("binary");
    expect(valueKindFor("uniqueidentifier", "uniqueidentifier")).toBe("guid");
    expect(valueKindFor("real", "real")).toBe("float");
    expect(valueKindFor("xml", "xml")).toBe("string");
  });
});
