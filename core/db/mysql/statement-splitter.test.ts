import { describe, expect, it } from "vitest";
import { StatementSplitter } from "./statement-splitter.js";
import { statementRole } from "./statement-roles.js";

const SCRIPT = [
  "-- header comment; with a semicolon",
  "/* block; comment */",
  "SET NAMES utf8mb4;",
  "# hash comment;",
  "INSERT INTO `t;x` (`a`,`b\"`) VALUES ('it''s; here','back\\\\slash\\'; quote'),(\"dq;\",'--not a comment'),(1,'#no');",
  "CREATE TABLE `t` (`a` int) -- trailing; comment",
  "  COMMENT='x';",
  "DELIMITER ;;",
  "CREATE PROCEDURE `p`() BEGIN SELECT ';;'; SELECT 2; END ;;",
  "DELIMITER ;",
  "SELECT 5--1;",
  "/*!40101 SET @x=1 */;",
  "-- Dump completed: 1 tables",
  "",
].join("\n");

const EXPECTED = [
  "SET NAMES utf8mb4",
  "INSERT INTO `t;x` (`a`,`b\"`) VALUES ('it''s; here','back\\\\slash\\'; quote'),(\"dq;\",'--not a comment'),(1,'#no')",
  "CREATE TABLE `t` (`a` int) -- trailing; comment\n  COMMENT='x'",
  "CREATE PROCEDURE `p`() BEGIN SELECT ';;'; SELECT 2; END",
  "SELECT 5--1",
  "/*!40101 SET @x=1 */",
];

function splitInChunks(text: string, size: number) {
  const splitter = new StatementSplitter();
  const statements: string[] = [];
  for (let index = 0; index < text.length; index += size) {
    statements.push(...splitter.push(text.slice(index, index + size)).map((statement) => statement.text));
  }
  const ending = splitter.end();
  statements.push(...ending.statements.map((statement) => statement.text));
  return { statements, ending };
}

describe("StatementSplitter", () => {
  it("splits like the mariadb client: quotes, comments and DELIMITER blocks", () => {
    const { statements, ending } = splitInChunks(SCRIPT, SCRIPT.length);
    expect(statements).toEqual(EXPECTED);
    expect(ending.unterminated).toBeUndefined();
    expect(ending.trailingText).toContain("-- Dump completed: 1 tables");
  });

  it("gives the same statements whatever the chunk boundaries", () => {
    for (let size = 1; size <= 24; size++) {
      const { statements, ending } = splitInChunks(SCRIPT, size);
      expect(statements, `chunk size ${size}`).toEqual(EXPECTED);
      expect(ending.unterminated).toBeUndefined();
    }
  });

  it("reports the line where each statement starts", () => {
    const splitter = new StatementSplitter();
    const lines = splitter.push(SCRIPT).map((statement) => statement.line);
    expect(lines).toEqual([3, 5, 6, 9, 11, 12]);
  });

  it("says what a truncated script ends inside", () => {
    const cut = (text: string) => {
      const splitter = new StatementSplitter();
      splitter.push(text);
      return splitter.end().unterminated;
    };
    expect(cut("INSERT INTO t VALUES ('abc")).toMatch(/quoted string/);
    expect(cut("INSERT INTO t VALUES (1),")).toMatch(/statement/);
    expect(cut("SELECT 1; /* open")).toMatch(/comment/);
    expect(cut("SELECT 1;\n-- done")).toBeUndefined();
  });
});

describe("statementRole", () => {
  it("sorts dump statements into tables, objects and session settings", () => {
    expect(statementRole("INSERT INTO `t` VALUES (1)")).toEqual({ role: "table" });
    expect(statementRole("CREATE TABLE `t` (a int)")).toEqual({ role: "table" });
    expect(statementRole("DROP TABLE IF EXISTS `t`")).toEqual({ role: "table" });
    expect(statementRole("CREATE SEQUENCE `s` start with 1")).toEqual({ role: "table" });
    expect(statementRole("DO SETVAL(`s`, 5, 0)")).toEqual({ role: "table" });
    expect(statementRole("CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1")).toEqual({ role: "object" });
    expect(statementRole("CREATE DEFINER=`root`@`localhost` TRIGGER `x` BEFORE INSERT ON `t` FOR EACH ROW SET @a=1")).toEqual({ role: "object" });
    expect(statementRole("CREATE FUNCTION `f`() RETURNS int RETURN 1")).toEqual({ role: "object" });
    expect(statementRole("DROP PROCEDURE IF EXISTS `p`")).toEqual({ role: "object" });
    expect(statementRole("SET sql_mode='NO_AUTO_VALUE_ON_ZERO'")).toEqual({ role: "session" });
    expect(statementRole("/*!40101 SET NAMES utf8mb4 */")).toEqual({ role: "session" });
  });

  it("refuses statements that reach outside the target database", () => {
    expect(statementRole("USE `other`")).toHaveProperty("refused");
    expect(statementRole("DROP DATABASE `other`")).toHaveProperty("refused");
    expect(statementRole("SET GLOBAL read_only=1")).toHaveProperty("refused");
    expect(statementRole("GRANT ALL ON *.* TO x")).toHaveProperty("refused");
  });
});
