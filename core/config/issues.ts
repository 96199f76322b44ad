import type { BaseIssue } from "valibot";

type Issue = BaseIssue<unknown>;

/** Where an issue is, the way the configuration is written: `backup.databases[0].databaseType`. */
export function issueKey(issue: Issue, dropLast = false): string {
  const parts = (issue.path ?? []).map((item) => item.key);
  if (dropLast) parts.pop();
  if (parts.length === 0) return "(top level)";
  return parts.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

const isUnknownKey = (issue: Issue) => issue.type === "strict_object" && issue.expected === "never";
const isMissingKey = (issue: Issue) => issue.kind === "schema" && issue.path?.at(-1)?.origin === "key" && issue.input === undefined;

/** What is wrong with one key, in words: unknown keys of one object on one line. */
export function describeIssues(issues: readonly Issue[]): string {
  const lines: string[] = [];
  const unknownByParent = new Map<string, string[]>();
  for (const issue of issues) {
    if (isUnknownKey(issue)) {
      const parent = issueKey(issue, true);
      const keys = unknownByParent.get(parent);
      const key = `"${String(issue.path!.at(-1)!.key)}"`;
      if (keys) keys.push(key);
      else {
        unknownByParent.set(parent, [key]);
        lines.push(parent);
      }
      continue;
    }
    lines.push(`- ${issueKey(issue)}: ${isMissingKey(issue) ? "is required" : issue.message}`);
  }
  return lines
    .map((line) => {
      const keys = unknownByParent.get(line);
      return keys && !line.startsWith("- ") ? `- ${line}: unknown key${keys.length > 1 ? "s" : ""} ${keys.join(", ")}` : line;
    })
    .join("\n");
}

/** The same problems on one line, separated by semicolons, for an error that names a document. */
export function issuesInOneLine(issues: readonly Issue[]): string {
  return describeIssues(issues).replace(/^- /gm, "").split("\n").join("; ");
}
