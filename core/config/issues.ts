import type { BaseIssue } from "valibot";
import { AppBackupError, type ConfigIssue } from "../errors.js";

type Issue = BaseIssue<unknown>;
type Key = string | number;

/** Where an issue is, the way the configuration is written: `backup.databases[0].databaseType`; "" at the top level. */
export function issueKey(issue: Issue, dropLast = false, under: readonly Key[] = []): string {
  const parts: Key[] = [...under, ...(issue.path ?? []).map((item) => item.key as Key)];
  if (dropLast) parts.pop();
  return parts.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

const isUnknownKey = (issue: Issue) => issue.type === "strict_object" && issue.expected === "never";
const isMissingKey = (issue: Issue) => issue.kind === "schema" && issue.path?.at(-1)?.origin === "key" && issue.input === undefined;

/** The validator's issues at their configuration keys; `under` is where the validated value sits in the configuration. */
export function configIssuesOf(issues: readonly Issue[], under: readonly Key[] = []): ConfigIssue[] {
  return issues.map((issue) =>
    // A strict object reports its first unknown key, at the key itself: name the object and the key.
    isUnknownKey(issue)
      ? { path: issueKey(issue, true, under), message: `unknown key "${String(issue.path!.at(-1)!.key)}"` }
      : { path: issueKey(issue, false, under), message: isMissingKey(issue) ? "is required" : issue.message },
  );
}

/** What is wrong, a line per key. */
export function describeConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(({ path, message }) => `- ${path || "(top level)"}: ${message}`).join("\n");
}

/** What is wrong, a line per key. */
export function describeIssues(issues: readonly Issue[]): string {
  return describeConfigIssues(configIssuesOf(issues));
}

/** The same problems on one line, separated by semicolons, for an error that names a document. */
export function issuesInOneLine(issues: readonly Issue[]): string {
  return describeIssues(issues).replace(/^- /gm, "").split("\n").join("; ");
}

/** The hint of a configuration whose keys do not validate. */
export const fixKeysHint = "Fix the keys named above; see the README for every key and its format.";

/** A CONFIG_INVALID error listing each problem at its key; `where` names the configuration (" in /path/app-backup.yml"). */
export function invalidConfiguration(where: string, issues: ConfigIssue[], hint: string): AppBackupError {
  return new AppBackupError("CONFIG_INVALID", `The configuration${where} is invalid:\n${describeConfigIssues(issues)}`, hint, { issues });
}
