import type { FrequencyUnit } from "../config/schema.js";

/** What the due decision needs of a schedule: Azure's frequency and start time. */
export interface ScheduleTiming {
  frequencyInterval: number;
  frequencyUnit: FrequencyUnit;
  startTime: Date;
}

/** A scheduled backup already in the container. */
export interface ScheduledBackupRef {
  name: string;
  startedAt: Date;
}

export interface DueDecision {
  due: boolean;
  /** One sentence a user can read: why it runs, or why not. */
  reason: string;
  /** The slot this run belongs to: the latest `startTime + k × interval` not after now. */
  slot?: Date;
  /** When the next scheduled backup is due, when it is not due now. */
  nextDueAt?: Date;
  /** Slots that passed without a successful scheduled backup, not counting the current one. */
  missedSlots: number;
}

const hourMs = 3_600_000;

export function intervalMs(timing: Pick<ScheduleTiming, "frequencyInterval" | "frequencyUnit">): number {
  return timing.frequencyInterval * (timing.frequencyUnit === "Day" ? 24 : 1) * hourMs;
}

/**
 * Whether a scheduled backup is due at `now`.
 *
 * Scheduled backups belong to slots `startTime + k × interval` (UTC, so a Day is
 * always 24 hours and month ends are ordinary days). A backup is due when the
 * current slot has no successful scheduled backup yet: the first one at
 * `startTime`, then one interval after the slot of the last successful one.
 * Counting on this grid rather than from the last backup's exact start keeps a
 * runner that starts a few seconds late from drifting a whole interval; slots
 * missed while no runner ran are made up by one backup, not one per slot.
 *
 * `lastSuccessful` is the newest scheduled backup that succeeded (fully or
 * partially); failed ones do not count, so the next run tries again.
 */
export function decideDue(timing: ScheduleTiming, now: Date, lastSuccessful: ScheduledBackupRef | undefined): DueDecision {
  const start = timing.startTime.getTime();
  const interval = intervalMs(timing);
  const every = describeInterval(timing);
  if (now.getTime() < start) {
    return {
      due: false,
      reason: `The schedule starts at ${iso(timing.startTime)}; the first scheduled backup runs then (${every}).`,
      nextDueAt: timing.startTime,
      missedSlots: 0,
    };
  }
  const slotIndex = Math.floor((now.getTime() - start) / interval);
  const slot = new Date(start + slotIndex * interval);
  const nextSlot = new Date(slot.getTime() + interval);

  if (!lastSuccessful) {
    return {
      due: true,
      reason:
        slotIndex === 0
          ? `No scheduled backup yet; the first was due at ${iso(timing.startTime)}.`
          : `No successful scheduled backup yet; the first was due at ${iso(timing.startTime)} and runs now, once.`,
      slot,
      missedSlots: slotIndex,
    };
  }
  const lastSlotIndex = Math.floor((lastSuccessful.startedAt.getTime() - start) / interval);
  if (lastSlotIndex >= slotIndex) {
    return {
      due: false,
      reason: `The last scheduled backup ${lastSuccessful.name} (${iso(lastSuccessful.startedAt)}) covers the slot of ${iso(slot)}; the next is due at ${iso(nextSlot)} (${every}).`,
      slot,
      nextDueAt: nextSlot,
      missedSlots: 0,
    };
  }
  // A last backup from before startTime (the schedule moved) leaves nothing missed before startTime.
  const missedSlots = lastSlotIndex < 0 ? slotIndex : slotIndex - lastSlotIndex - 1;
  const dueAt = new Date(start + Math.max(0, lastSlotIndex + 1) * interval);
  return {
    due: true,
    reason:
      missedSlots === 0
        ? `The last scheduled backup ${lastSuccessful.name} was at ${iso(lastSuccessful.startedAt)}; the next was due at ${iso(dueAt)} (${every}).`
        : `The last scheduled backup ${lastSuccessful.name} was at ${iso(lastSuccessful.startedAt)}; ${missedSlots + 1} slots passed since ${iso(dueAt)} without one, and one backup runs now.`,
    slot,
    missedSlots,
  };
}

export function describeInterval(timing: Pick<ScheduleTiming, "frequencyInterval" | "frequencyUnit">): string {
  const unit = timing.frequencyUnit === "Day" ? "day" : "hour";
  return timing.frequencyInterval === 1 ? `every ${unit}` : `every ${timing.frequencyInterval} ${unit}s`;
}

const iso = (date: Date) => date.toISOString();
