import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { AppBackupError } from "../errors.js";
import { homeUnreadable } from "./unreadable.js";

/** Where Azure reads the filter from, then the home-level fallback. */
export const filterFileLocations = ["site/wwwroot/_backup.filter", "_backup.filter"];

interface FilterRule {
  /** The line as written, for messages and the manifest. */
  line: string;
  /** Normalized path pattern relative to the home, `/`-separated, no leading slash. */
  pattern: string;
  matches: (relativePath: string) => boolean;
  /** Paths this line excluded during the walk (a folder counts once: its subtree is not walked). */
  matched: number;
}

/**
 * Partial-backup exclusions in Azure's `_backup.filter` format: one path per line
 * relative to the home (`\site\wwwroot\Images\2014`), a folder excluding its whole
 * subtree. Beyond Azure: blank lines, `#` comments and glob lines (`*`, `**`, `?`).
 */
export class PathFilter {
  private readonly rules: FilterRule[];

  constructor(
    lines: string[],
    /** Where the lines came from, for messages. */
    readonly source: string,
  ) {
    this.rules = [];
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      this.rules.push(compileRule(line, `${source}, line ${index + 1}`));
    }
  }

  /** The effective lines (comments and blanks dropped), as recorded in the manifest. */
  get lines(): string[] {
    return this.rules.map((rule) => rule.line);
  }

  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  /** True when the path (relative to the home, `/`-separated) is excluded; its subtree is then excluded too. */
  excludes(relativePath: string): boolean {
    let excluded = false;
    for (const rule of this.rules) {
      if (rule.matches(relativePath)) {
        rule.matched++;
        excluded = true;
      }
    }
    return excluded;
  }

  /** Lines that excluded nothing during the walk: worth a warning, usually a typo. */
  unusedLines(): string[] {
    return this.rules.filter((rule) => rule.matched === 0).map((rule) => rule.line);
  }

  /** Each effective line with the number of paths it excluded during the walk. */
  lineMatches(): Array<{ line: string; matched: number }> {
    return this.rules.map((rule) => ({ line: rule.line, matched: rule.matched }));
  }
}

function compileRule(line: string, where: string): FilterRule {
  let pattern = line.replace(/\\/g, "/");
  // Azure documents paths as seen from D:\home; accept that prefix too.
  pattern = pattern.replace(/^[a-z]:\/home(?=\/|$)/i, "");
  if (/^[a-z]:/i.test(pattern)) {
    throw new AppBackupError(
      "FILTER_INVALID",
      `Filter line "${line}" (${where}) names a drive; filter lines are paths relative to the app's home.`,
      "Write it relative to the home, e.g. \\site\\wwwroot\\Images.",
    );
  }
  pattern = pattern.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\/{2,}/g, "/");
  const segments = pattern.split("/");
  if (segments.includes("..")) {
    throw new AppBackupError(
      "FILTER_INVALID",
      `Filter line "${line}" (${where}) escapes the app's home with "..".`,
      "Filter lines can only exclude paths inside the home; remove the line or write it relative to the home.",
    );
  }
  const cleaned = segments.filter((segment) => segment !== ".").join("/");
  if (!cleaned) {
    throw new AppBackupError(
      "FILTER_INVALID",
      `Filter line "${line}" (${where}) would exclude the whole home.`,
      "Name a folder or file inside the home, or remove the line.",
    );
  }
  const rule: FilterRule = { line, pattern: cleaned, matched: 0, matches: () => false };
  if (picomatch.scan(cleaned).isGlob) {
    const isMatch = picomatch(cleaned, { dot: true });
    rule.matches = (relativePath) => isMatch(relativePath);
  } else {
    rule.matches = (relativePath) => relativePath === cleaned || relativePath.startsWith(`${cleaned}/`);
  }
  return rule;
}

/** A filter file's text as read at one of `filterFileLocations`, and how messages name it; undefined when there is none there. */
export type FilterFileReader = (location: string) => Promise<{ text: string; source: string } | undefined>;

/**
 * The filter of a backup from any medium: inline lines from the configuration
 * when given, else the first `_backup.filter` that `read` finds in the home,
 * else none.
 */
export async function loadFilterFrom(inline: string[] | undefined, read: FilterFileReader): Promise<PathFilter> {
  if (inline) return new PathFilter(inline, "backup.filter in the configuration");
  for (const location of filterFileLocations) {
    const file = await read(location);
    if (file) return new PathFilter(file.text.replace(/^\uFEFF/, "").split(/\r?\n/), file.source);
  }
  return new PathFilter([], "no filter");
}

/** {@link loadFilterFrom} a local home. */
export function loadFilter(home: string, inline: string[] | undefined): Promise<PathFilter> {
  return loadFilterFrom(inline, async (location) => {
    const file = path.join(home, location);
    try {
      return { text: await readFile(file, "utf8"), source: file };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      // Reading a file in a home this user cannot enter fails at the file; the home is what to fix.
      await access(home, constants.R_OK | constants.X_OK).catch((denied: unknown) => {
        throw homeUnreadable(home, denied);
      });
      throw new AppBackupError(
        "FILTER_INVALID",
        `Cannot read the filter file ${file}: ${(error as Error).message}.`,
        "Make the file readable by the user that runs app-backup, or remove it (or set backup.filter in the configuration).",
      );
    }
  });
}
