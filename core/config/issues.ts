import type { BaseIssue } from "valibot";
import { AppBackupError, type ConfigIssue } from "../errors.js";
import { closestWord } from "./suggest.js";

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

/**
 * The validator's issues at their configuration keys; `under` is where the
 * validated value sits in the configuration, `schema` what validated it.
 */
export function configIssuesOf(issues: readonly Issue[], under: readonly Key[] = [], schema?: SchemaShape): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    if (!isUnknownKey(issue)) return [{ path: issueKey(issue, false, under), message: isMissingKey(issue) ? "is required" : issue.message }];
    // A strict object reports only its first unknown key, at the key itself: name the object and every unknown key in it.
    const path = issueKey(issue, true, under);
    const keys = schema ? keysAt(schema, issue) : undefined;
    const unknown = keys ? keys.unknown : [String(issue.path!.at(-1)!.key)];
    return unknown.map((key) => {
      const meant = keys && closestWord(key, keys.known);
      return { path, message: `unknown key "${key}"${meant ? ` (did you mean "${meant}"?)` : ""}` };
    });
  });
}

/** As much of a valibot schema as it takes to find the keys an object of it may have. */
interface SchemaShape {
  type?: string;
  entries?: Record<string, SchemaShape>;
  item?: SchemaShape;
  value?: SchemaShape;
  wrapped?: SchemaShape;
}

/** The keys the strict object of an unknown-key issue knows, and those of its value it does not. */
function keysAt(schema: SchemaShape, issue: Issue): { known: string[]; unknown: string[] } | undefined {
  const path = issue.path!;
  let at: SchemaShape | undefined = schema;
  for (const item of path.slice(0, -1)) at = childOf(at, item.key as Key);
  const entries = unwrapped(at)?.entries;
  const value = path.at(-1)!.input;
  if (!entries || value === null || typeof value !== "object") return undefined;
  const known = Object.keys(entries);
  return { known, unknown: Object.keys(value).filter((key) => !Object.hasOwn(entries, key)) };
}

function childOf(schema: SchemaShape | undefined, key: Key): SchemaShape | undefined {
  const shape = unwrapped(schema);
  if (shape?.entries) return shape.entries[String(key)];
  if (shape?.type === "array") return shape.item;
  if (shape?.type === "record") return shape.value;
  return undefined;
}

/** Through optional and nullable wrappers to the schema they wrap. */
function unwrapped(schema: SchemaShape | undefined): SchemaShape | undefined {
  let shape = schema;
  while (shape?.wrapped) shape = shape.wrapped;
  return shape;
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
