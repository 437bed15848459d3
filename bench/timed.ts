/** Seconds one call of `f` takes. */
export async function seconds(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Seconds of the fastest of `n` calls, after one untimed call (session creation, warm-up). The
 * fastest, not the mean: on a shared machine the mean mostly measures the neighbours' load, and
 * torch_reference.py times PyTorch the same way, so the ratio compares like with like.
 */
export async function timed(n: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, await seconds(f));
  return best;
}
