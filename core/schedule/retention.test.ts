import { describe, expect, it } from "vitest";
import type { BackupStatus, BackupTrigger } from "../format/manifest.js";
import { planRetention, type RetentionCandidate, type RetentionPolicy } from "./retention.js";

const hour = 3_600_000;
const day = 24 * hour;
const now = new Date("2030-06-01T00:00:00Z");

function backup(ageMs: number, trigger: BackupTrigger = "Scheduled", status: BackupStatus = "Succeeded"): RetentionCandidate {
  const startedAt = new Date(now.getTime() - ageMs);
  return { name: `shop_${startedAt.toISOString().replace(/[-:TZ.]/g, "").slice(0, 14)}${trigger === "OnDemand" ? "_od" : ""}`, trigger, status, startedAt };
}

const policy = (overrides: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  retentionPeriodInDays: 30,
  keepAtLeastOneBackup: true,
  tiered: false,
  ...overrides,
});

function actions(backups: RetentionCandidate[], p: RetentionPolicy, at = now) {
  return Object.fromEntries(planRetention(backups, p, at).map((d) => [d.name, `${d.action}:${d.rule}`]));
}

describe("planRetention", () => {
  it("deletes scheduled backups older than the retention period, failed ones too, and keeps younger ones", () => {
    const young = backup(29 * day);
    const edge = backup(30 * day);
    const old = backup(31 * day);
    const oldFailed = backup(40 * day, "Scheduled", "Failed");
    const newest = backup(1 * day);
    expect(actions([newest, young, edge, old, oldFailed], policy())).toEqual({
      [newest.name]: "keep:within-retention",
      [young.name]: "keep:within-retention",
      [edge.name]: "keep:within-retention",
      [old.name]: "delete:older-than-retention",
      [oldFailed.name]: "delete:older-than-retention",
    });
  });

  it("never deletes an on-demand backup", () => {
    const ancient = backup(400 * day, "OnDemand");
    const failed = backup(100 * day, "OnDemand", "Failed");
    const decisions = planRetention([ancient, failed], policy({ retentionPeriodInDays: 1, tiered: true }), now);
    expect(decisions.map((d) => [d.action, d.rule])).toEqual([
      ["keep", "on-demand"],
      ["keep", "on-demand"],
    ]);
  });

  it("keeps the newest successful scheduled backup past retention when keepAtLeastOneBackup is set", () => {
    const failedNewer = backup(35 * day, "Scheduled", "Failed");
    const partial = backup(40 * day, "Scheduled", "PartiallySucceeded");
    const older = backup(50 * day);
    const onDemand = backup(2 * day, "OnDemand");
    expect(actions([onDemand, failedNewer, partial, older], policy())).toEqual({
      [onDemand.name]: "keep:on-demand",
      [failedNewer.name]: "delete:older-than-retention",
      [partial.name]: "keep:keep-at-least-one",
      [older.name]: "delete:older-than-retention",
    });
    expect(actions([onDemand, failedNewer, partial, older], policy({ keepAtLeastOneBackup: false }))).toEqual({
      [onDemand.name]: "keep:on-demand",
      [failedNewer.name]: "delete:older-than-retention",
      [partial.name]: "delete:older-than-retention",
      [older.name]: "delete:older-than-retention",
    });
  });

  it("keeps scheduled backups forever when retentionPeriodInDays is 0", () => {
    const backups = [backup(1 * day), backup(365 * day), backup(3000 * day, "Scheduled", "Failed")];
    expect(planRetention(backups, policy({ retentionPeriodInDays: 0 }), now).every((d) => d.action === "keep" && d.rule === "keep-forever")).toBe(true);
  });

  it("says why, in words", () => {
    const [decision] = planRetention([backup(31 * day + 12 * hour)], policy({ keepAtLeastOneBackup: false }), now);
    expect(decision!.reason).toBe("Scheduled, 31.5 days old: older than the 30-day retention period.");
  });
});

describe("tiered retention", () => {
  /** A scheduled backup at every hour for `days` days up to `until`. */
  function hourly(days: number, until = now): RetentionCandidate[] {
    const backups: RetentionCandidate[] = [];
    for (let t = until.getTime() - days * day; t <= until.getTime(); t += hour) {
      backups.push({ name: `shop_${new Date(t).toISOString().replace(/[-:TZ.]/g, "").slice(0, 14)}`, trigger: "Scheduled", status: "Succeeded", startedAt: new Date(t) });
    }
    return backups;
  }

  function keptAges(backups: RetentionCandidate[], p: RetentionPolicy, at = now): number[] {
    return planRetention(backups, p, at)
      .filter((d) => d.action === "keep")
      .map((d) => (at.getTime() - d.startedAt.getTime()) / hour)
      .sort((a, b) => a - b);
  }

  it("keeps all of the last 3 days, one per 3 hours to 14 days, one per 6 hours to 30 days, one per day beyond", () => {
    const kept = keptAges(hourly(40), policy({ retentionPeriodInDays: 0, tiered: true }));
    const inRange = (from: number, to: number) => kept.filter((h) => h >= from * 24 && h < to * 24);
    expect(inRange(0, 3)).toHaveLength(72);
    // now is midnight UTC, so each window's newest backup is its last hour: ages 3k + 1 hours.
    expect(inRange(3, 14)).toEqual(Array.from({ length: 88 }, (_, i) => 73 + 3 * i));
    expect(inRange(14, 30)).toEqual(Array.from({ length: 64 }, (_, i) => 14 * 24 + 1 + 6 * i));
    expect(inRange(30, 41)).toEqual(Array.from({ length: 10 }, (_, i) => 30 * 24 + 1 + 24 * i));
  });

  it("still deletes by age past the retention period", () => {
    const kept = keptAges(hourly(40), policy({ retentionPeriodInDays: 30, tiered: true }));
    expect(Math.max(...kept)).toBeLessThanOrEqual(30 * 24);
    expect(kept).toHaveLength(72 + 88 + 64);
  });

  it("reaches the same set pruning every hour as pruning once at the end", () => {
    const p = policy({ retentionPeriodInDays: 20, tiered: true });
    let survivors: RetentionCandidate[] = [];
    const start = now.getTime() - 25 * day;
    for (let t = start; t <= now.getTime(); t += hour) {
      const at = new Date(t);
      survivors.push({ name: `shop_${t}`, trigger: "Scheduled", status: "Succeeded", startedAt: at });
      const keep = new Set(planRetention(survivors, p, at).filter((d) => d.action === "keep").map((d) => d.name));
      survivors = survivors.filter((b) => keep.has(b.name));
    }
    const all: RetentionCandidate[] = [];
    for (let t = start; t <= now.getTime(); t += hour) all.push({ name: `shop_${t}`, trigger: "Scheduled", status: "Succeeded", startedAt: new Date(t) });
    const once = planRetention(all, p, now).filter((d) => d.action === "keep").map((d) => d.name);
    expect(survivors.map((b) => b.name).sort()).toEqual(once.sort());
  });

  it("keeps the newest successful backup of a thinned window and deletes the rest, failed ones included", () => {
    // A 3-hour window 5 days back: 00:00-03:00 on 2030-05-27.
    const base = new Date("2030-05-27T00:00:00Z").getTime();
    const make = (offsetMin: number, status: BackupStatus): RetentionCandidate => ({
      name: `w_${offsetMin}`,
      trigger: "Scheduled",
      status,
      startedAt: new Date(base + offsetMin * 60_000),
    });
    const backups = [make(10, "Succeeded"), make(70, "Succeeded"), make(150, "Failed"), make(200, "Failed")];
    const decisions = Object.fromEntries(planRetention(backups, policy({ tiered: true }), now).map((d) => [d.name, d]));
    expect(decisions.w_70).toMatchObject({ action: "keep", rule: "tier-kept" });
    expect(decisions.w_10).toMatchObject({ action: "delete", rule: "tier-thinned" });
    expect(decisions.w_10!.reason).toContain("w_70 is kept for this one");
    expect(decisions.w_150).toMatchObject({ action: "delete", rule: "tier-thinned" });
    // 03:20 is in the next window, which holds no successful backup.
    expect(decisions.w_200).toMatchObject({ action: "delete", rule: "tier-thinned" });
    expect(decisions.w_200!.reason).toContain("this window has none");
  });
});
