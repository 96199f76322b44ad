import { describe, expect, it } from "vitest";
import { decideDue, intervalMs, type ScheduleTiming } from "./due.js";

const at = (iso: string) => new Date(iso);
const daily = (startTime: string, frequencyInterval = 1): ScheduleTiming => ({ frequencyInterval, frequencyUnit: "Day", startTime: at(startTime) });
const hourly = (startTime: string, frequencyInterval = 1): ScheduleTiming => ({ frequencyInterval, frequencyUnit: "Hour", startTime: at(startTime) });
const last = (iso: string) => ({ name: `shop_${iso.replace(/[-:TZ.]/g, "").slice(0, 14)}`, startedAt: at(iso) });

describe("decideDue", () => {
  it("waits for startTime, then runs the first backup at it", () => {
    const timing = daily("2030-01-10T02:00:00Z");
    const before = decideDue(timing, at("2030-01-10T01:59:59Z"), undefined);
    expect(before).toMatchObject({ due: false, nextDueAt: at("2030-01-10T02:00:00Z") });
    expect(before.reason).toContain("starts at 2030-01-10T02:00:00.000Z");

    const first = decideDue(timing, at("2030-01-10T02:00:00Z"), undefined);
    expect(first).toMatchObject({ due: true, slot: at("2030-01-10T02:00:00Z"), missedSlots: 0 });
    expect(first.reason).toContain("No scheduled backup yet");
  });

  it("is due again one interval after the slot of the last successful backup, not before", () => {
    const timing = daily("2030-01-10T02:00:00Z");
    const previous = last("2030-01-10T02:00:04Z");
    expect(decideDue(timing, at("2030-01-11T01:59:59Z"), previous)).toMatchObject({ due: false, nextDueAt: at("2030-01-11T02:00:00Z") });
    expect(decideDue(timing, at("2030-01-11T02:00:00Z"), previous)).toMatchObject({ due: true, slot: at("2030-01-11T02:00:00Z"), missedSlots: 0 });
  });

  it("does not drift when a runner starts a few seconds later than the previous backup did", () => {
    const timing = daily("2030-01-10T02:00:00Z");
    // The previous backup started 40 s into its slot; today's runner fires 5 s into the slot.
    expect(decideDue(timing, at("2030-01-11T02:00:05Z"), last("2030-01-10T02:00:40Z")).due).toBe(true);
  });

  it("crosses month, year and leap-day boundaries in UTC", () => {
    expect(decideDue(daily("2030-01-31T02:00:00Z"), at("2030-02-01T02:00:00Z"), last("2030-01-31T02:00:00Z"))).toMatchObject({
      due: true,
      slot: at("2030-02-01T02:00:00Z"),
    });
    expect(decideDue(daily("2030-01-31T02:00:00Z"), at("2030-02-01T01:00:00Z"), last("2030-01-31T02:00:00Z"))).toMatchObject({
      due: false,
      nextDueAt: at("2030-02-01T02:00:00Z"),
    });
    // Every 7 days from Feb 25 of a non-leap year lands on March 4; of a leap year, on March 3.
    expect(decideDue(daily("2030-02-25T00:00:00Z", 7), at("2030-03-01T00:00:00Z"), last("2030-02-25T00:00:00Z")).nextDueAt).toEqual(
      at("2030-03-04T00:00:00Z"),
    );
    expect(decideDue(daily("2028-02-25T00:00:00Z", 7), at("2028-03-01T00:00:00Z"), last("2028-02-25T00:00:00Z")).nextDueAt).toEqual(
      at("2028-03-03T00:00:00Z"),
    );
    expect(decideDue(hourly("2030-12-31T21:00:00Z", 2), at("2031-01-01T01:00:00Z"), last("2030-12-31T23:00:00Z"))).toMatchObject({
      due: true,
      slot: at("2031-01-01T01:00:00Z"),
    });
  });

  it("counts Hour intervals from startTime", () => {
    const timing = hourly("2030-05-01T00:00:00Z", 6);
    expect(decideDue(timing, at("2030-05-01T11:59:00Z"), last("2030-05-01T06:10:00Z"))).toMatchObject({
      due: false,
      slot: at("2030-05-01T06:00:00Z"),
      nextDueAt: at("2030-05-01T12:00:00Z"),
    });
    expect(decideDue(timing, at("2030-05-01T12:00:00Z"), last("2030-05-01T06:10:00Z"))).toMatchObject({ due: true, missedSlots: 0 });
    expect(intervalMs(timing)).toBe(6 * 3_600_000);
  });

  it("makes up a week without a runner with one backup, then waits for the next slot", () => {
    const timing = daily("2030-03-01T02:00:00Z");
    const now = at("2030-03-09T10:00:00Z");
    const afterOutage = decideDue(timing, now, last("2030-03-02T02:00:00Z"));
    expect(afterOutage).toMatchObject({ due: true, slot: at("2030-03-09T02:00:00Z"), missedSlots: 6 });
    expect(afterOutage.reason).toContain("one backup runs now");
    // Once that backup exists, the same moment (and the rest of the day) is no longer due.
    expect(decideDue(timing, now, last("2030-03-09T10:00:00Z"))).toMatchObject({ due: false, nextDueAt: at("2030-03-10T02:00:00Z") });
    expect(decideDue(timing, at("2030-03-10T01:59:00Z"), last("2030-03-09T10:00:00Z")).due).toBe(false);
  });

  it("runs at the new startTime when the last backup predates a moved schedule", () => {
    const timing = daily("2030-06-01T00:00:00Z", 7);
    expect(decideDue(timing, at("2030-05-31T12:00:00Z"), last("2030-05-20T00:00:00Z")).due).toBe(false);
    expect(decideDue(timing, at("2030-06-01T00:00:00Z"), last("2030-05-31T12:00:00Z"))).toMatchObject({ due: true, missedSlots: 0 });
  });

  it("is not due when the last scheduled backup is newer than now (evaluating the past)", () => {
    expect(decideDue(daily("2030-01-01T00:00:00Z"), at("2030-01-05T12:00:00Z"), last("2030-01-09T00:00:00Z")).due).toBe(false);
  });
});
