/**
 * What a statement of a dump does, which decides where the loader runs it:
 * `table` statements build tables and data (run in the scratch database),
 * `object` statements create views, routines and triggers (run after the tables are swapped in),
 * `session` statements set session variables (run in order in both places).
 */
export type StatementRole = "table" | "object" | "session";

const ACCOUNT = "(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\\s@]+)(?:\\s*@\\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\\S+))?";
const CREATE_OBJECT = new RegExp(
  `^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:ALGORITHM\\s*=\\s*\\w+\\s+)?(?:DEFINER\\s*=\\s*${ACCOUNT}\\s+)?(?:SQL\\s+SECURITY\\s+\\w+\\s+)?(?:VIEW|PROCEDURE|FUNCTION|AGGREGATE\\s+FUNCTION|TRIGGER)\\b`,
  "i",
);
const TABLE_STATEMENTS = [
  /^(?:INSERT|REPLACE)\s/i,
  /^(?:CREATE|DROP|ALTER)\s+TABLE\b/i,
  /^(?:LOCK|UNLOCK)\s+TABLES?\b/i,
  /^CREATE\s+(?:OR\s+REPLACE\s+)?SEQUENCE\b/i,
  /^DROP\s+SEQUENCE\b/i,
  /^(?:DO|SELECT)\s+SETVAL\s*\(/i,
];

/** The role of one statement, or a reason it is refused (statements that reach outside the database). */
export function statementRole(statement: string): { role: StatementRole } | { refused: string } {
  const text = statement.replace(/^\/\*!\d*\s*/, "").trimStart();
  if (/^SET\s/i.test(text)) {
    if (/^SET\s+(?:GLOBAL\b|PERSIST|@@GLOBAL\.|PASSWORD\b|ROLE\b|DEFAULT\s+ROLE\b)/i.test(text)) return { refused: "it changes server-wide settings or accounts" };
    return { role: "session" };
  }
  if (TABLE_STATEMENTS.some((pattern) => pattern.test(text))) return { role: "table" };
  if (CREATE_OBJECT.test(text) || /^DROP\s+(?:VIEW|PROCEDURE|FUNCTION|TRIGGER)\b/i.test(text)) return { role: "object" };
  if (/^(?:USE|CREATE\s+(?:DATABASE|SCHEMA)|DROP\s+(?:DATABASE|SCHEMA))\b/i.test(text)) return { refused: "it switches, creates or drops a database (app-backup loads single-database dumps into the database the connection string names)" };
  return { refused: "app-backup only loads table, data, view, routine and trigger statements" };
}
