/** Runs at most `concurrency` of the given tasks at once; the others wait their turn in order. */
export function createLimit(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${concurrency}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never over-counts.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
