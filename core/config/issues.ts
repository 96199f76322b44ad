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

/** What is wrong, a line per key. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => {
      // A strict object reports its first unknown key, at the key itself: name the object and the key.
      if (isUnknownKey(issue)) return `- ${issueKey(issue, true)}: unknown key "${String(issue.path!.at(-1)!.key)}"`;
      return `- ${issueKey(issue)}: ${isMissingKey(issue) ? "is required" : issue.message}`;
    })
    .join("\n");
}

/** The same problems on one line, separated by semicolons, for an error that names a document. */
export function issuesInOneLine(issues: readonly Issue[]): string {
  return describeIssues(issues).replace(/^- /gm, "").split("\n").join("; ");
}
