/**
 * Seconds of the fastest of `n` calls, after one untimed call (session creation, warm-up). The
 * fastest, not the mean: on a shared machine the mean mostly measures the neighbours' load, and
 * torch_reference.py times PyTorch the same way, so the ratio compares like with like.
 */
export async function timed(n: number, f: () => Promise<unknown>): Promise<number> {
  await f();
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}
