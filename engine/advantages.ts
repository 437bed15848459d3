/** GRPO advantages from rewards, one group of G samples per prompt. */
export type ScaleRewards = 'group' | 'batch' | 'none';

/**
 * A_i = (r_i - mean of its group) / (std + eps), the std taken over the group (`group`), over the
 * whole batch (`batch`), or not at all (`none`, Dr. GRPO). Std and eps are TRL's: the sample std
 * (divide by n-1) and 1e-4.
 * `rewards` is flat, groups contiguous: [g0 s0, g0 s1, ..., g1 s0, ...].
 */
export function computeAdvantages(rewards: readonly number[], groupSize: number, scale: ScaleRewards, eps = 1e-4): Float32Array {
  if (groupSize < 1 || rewards.length % groupSize !== 0) {
    throw new Error(`computeAdvantages: ${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  const out = new Float32Array(rewards.length);
  const batchStd = std(rewards);
  for (let start = 0; start < rewards.length; start += groupSize) {
    const group = rewards.slice(start, start + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const divisor = scale === 'group' ? std(group) + eps : scale === 'batch' ? batchStd + eps : 1;
    group.forEach((r, i) => (out[start + i] = (r - mean) / divisor));
  }
  return out;
}

function std(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}
