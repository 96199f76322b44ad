import type { BackupStatus, BackupTrigger } from "../format/manifest.js";
import { restorableStatuses } from "../format/manifest.js";
import { byCodeUnits } from "../code-unit-order.js";

/** Azure's retention settings of a backup schedule, plus the optional tiered thinning. */
export interface RetentionPolicy {
  /** Scheduled backups older than this are deleted; 0 keeps them forever. */
  retentionPeriodInDays: number;
  /** The newest successful scheduled backup is kept however old it is. */
  keepAtLeastOneBackup: boolean;
  /** Thin older scheduled backups by age (see `retentionTiers`). */
  tiered: boolean;
}

export interface RetentionCandidate {
  name: string;
  trigger: BackupTrigger;
  status: BackupStatus;
  startedAt: Date;
}

export type RetentionRule =
  | "on-demand"
  | "within-retention"
  | "keep-forever"
  | "older-than-retention"
  | "keep-at-least-one"
  | "tier-all"
  | "tier-kept"
  | "tier-thinned"
  /** Retention would delete it, but its name is not one of the app's stamped names. */
  | "not-own-name";

export interface RetentionDecision extends RetentionCandidate {
  action: "keep" | "delete";
  rule: RetentionRule;
  reason: string;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/**
 * The tiered policy, by the backup's age: every scheduled backup of the last
 * 3 days; one per 3-hour window from 3 to 14 days; one per 6-hour window from
 * 14 to 30 days; one per day beyond 30 days (reached only when the retention
 * period is longer than 30 days or 0). Windows are fixed UTC windows
 * (00:00-03:00, 03:00-06:00, ...; days from midnight), each nested in the next
 * tier's, so a backup kept for its window stays kept as it ages until a
 * coarser window holds a newer one. Within a window the newest successful
 * backup is kept; the others, failed ones included, are deleted. The
 * retention period still applies on top.
 */
export const retentionTiers: ReadonlyArray<{ fromDays: number; toDays: number; windowHours?: number }> = [
  { fromDays: 0, toDays: 3 },
  { fromDays: 3, toDays: 14, windowHours: 3 },
  { fromDays: 14, toDays: 30, windowHours: 6 },
  { fromDays: 30, toDays: Infinity, windowHours: 24 },
];

/**
 * What retention does to each backup at `now`: which are kept and which
 * deleted, and by which rule. On-demand backups are never deleted.
 */
export function planRetention(backups: RetentionCandidate[], policy: RetentionPolicy, now: Date): RetentionDecision[] {
  const isScheduled = (b: RetentionCandidate) => b.trigger === "Scheduled";
  const newestSuccessful = backups
    .filter((b) => isScheduled(b) && restorableStatuses.has(b.status))
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || byCodeUnits(b.name, a.name))[0];
  const ageOf = (b: RetentionCandidate) => Math.max(0, now.getTime() - b.startedAt.getTime());
  const retentionMs = policy.retentionPeriodInDays * dayMs;
  const retentionText = `the ${policy.retentionPeriodInDays}-day retention period`;

  const tierKeeper = policy.tiered ? tierKeepers(backups.filter(isScheduled), ageOf) : undefined;

  return backups.map((backup): RetentionDecision => {
    const decide = (action: RetentionDecision["action"], rule: RetentionRule, reason: string): RetentionDecision => ({
      ...backup,
      action,
      rule,
      reason,
    });
    if (!isScheduled(backup)) return decide("keep", "on-demand", "On-demand backups are never deleted by retention.");
    const age = ageOf(backup);
    const aged = `Scheduled, ${formatAge(age)} old`;

    let verdict: RetentionDecision;
    if (policy.retentionPeriodInDays > 0 && age > retentionMs) {
      verdict = decide("delete", "older-than-retention", `${aged}: older than ${retentionText}.`);
    } else if (tierKeeper) {
      const tier = tierOf(age);
      if (!tier.windowHours) {
        verdict = decide("keep", "tier-all", `${aged}: tiered retention keeps every scheduled backup of the last ${tier.toDays} days.`);
      } else {
        const window = `${tier.windowHours === 24 ? "day" : `${tier.windowHours}-hour window`}`;
        const span = `backups ${tier.fromDays} to ${tier.toDays === Infinity ? "any number of" : tier.toDays} days old`;
        const keeper = tierKeeper.get(backup.name);
        verdict =
          keeper === backup.name
            ? decide("keep", "tier-kept", `${aged}: the newest successful backup of its ${window} (tiered: one per ${window} for ${span}).`)
            : decide(
                "delete",
                "tier-thinned",
                keeper
                  ? `${aged}: tiered retention keeps one backup per ${window} for ${span}; ${keeper} is kept for this one.`
                  : `${aged}: tiered retention keeps one successful backup per ${window} for ${span}; this window has none.`,
              );
      }
    } else if (policy.retentionPeriodInDays === 0) {
      verdict = decide("keep", "keep-forever", `${aged}: retentionPeriodInDays is 0, scheduled backups are kept forever.`);
    } else {
      verdict = decide("keep", "within-retention", `${aged}: within ${retentionText}.`);
    }

    if (verdict.action === "delete" && policy.keepAtLeastOneBackup && newestSuccessful?.name === backup.name) {
      return decide(
        "keep",
        "keep-at-least-one",
        `${aged}: would be deleted (${verdict.rule}), but it is the newest successful scheduled backup and keepAtLeastOneBackup is set.`,
      );
    }
    return verdict;
  });
}

function tierOf(ageMs: number) {
  return retentionTiers.find((t) => ageMs < t.toDays * dayMs) ?? retentionTiers.at(-1)!;
}

/**
 * For each scheduled backup in a thinned tier: the name of the backup kept for
 * its window (itself, another one, or undefined when the window has no
 * successful backup). A window's newest successful backup counts even when it
 * is young enough to sit in a finer tier, so a window straddling a tier
 * boundary keeps one backup, not one per tier.
 */
function tierKeepers(scheduled: RetentionCandidate[], ageOf: (b: RetentionCandidate) => number): Map<string, string | undefined> {
  const windowOf = (backup: RetentionCandidate, hours: number) => Math.floor(backup.startedAt.getTime() / (hours * hourMs));
  const newestByWindow = new Map<number, Map<number, RetentionCandidate>>();
  for (const hours of new Set(retentionTiers.flatMap((t) => (t.windowHours ? [t.windowHours] : [])))) {
    const newest = new Map<number, RetentionCandidate>();
    for (const backup of scheduled) {
      if (!restorableStatuses.has(backup.status)) continue;
      const window = windowOf(backup, hours);
      const current = newest.get(window);
      if (!current || backup.startedAt.getTime() > current.startedAt.getTime() || (backup.startedAt.getTime() === current.startedAt.getTime() && backup.name > current.name)) {
        newest.set(window, backup);
      }
    }
    newestByWindow.set(hours, newest);
  }
  const keepers = new Map<string, string | undefined>();
  for (const backup of scheduled) {
    const hours = tierOf(ageOf(backup)).windowHours;
    if (hours) keepers.set(backup.name, newestByWindow.get(hours)!.get(windowOf(backup, hours))?.name);
  }
  return keepers;
}

export function formatAge(ms: number): string {
  if (ms < hourMs) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * dayMs) return `${(ms / hourMs).toFixed(ms < 10 * hourMs ? 1 : 0)} h`;
  return `${(ms / dayMs).toFixed(1)} days`;
}
