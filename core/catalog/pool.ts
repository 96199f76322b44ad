/**
 * Runs tasks at most `limit` at a time, starting the next as each one ends (not
 * in fixed batches, so one slow read never holds back the others). A dozen lines
 * rather than p-map: the listing feeds tasks while it is still being read, and
 * this keeps the package and the Action's bundle free of a dependency for it.
 * Tasks must not reject: their results are awaited after the listing ends.
 */
export function boundedPool(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    active--;
    waiting.shift()?.();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const start = () => {
        active++;
        task().then(resolve, reject).finally(next);
      };
      if (active < limit) start();
      else waiting.push(start);
    });
}
