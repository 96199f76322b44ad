import { describe, expect, it } from "vitest";
import { boundedPool } from "./pool.js";

/** A task that runs until the test finishes it. */
function deferred() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("boundedPool", () => {
  it("runs at most its limit at once, and starts the next task as soon as any one ends", async () => {
    const run = boundedPool(3);
    const tasks = Array.from({ length: 7 }, deferred);
    const started: number[] = [];
    const results = tasks.map((task, index) =>
      run(async () => {
        started.push(index);
        await task.done;
        return index;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1, 2]);
    // The second task ends first: the fourth starts at once, while the first and third still run.
    tasks[1]!.finish();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    tasks[3]!.finish();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const task of tasks) task.finish();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
