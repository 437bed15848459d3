/** Learning-rate schedule: linear warmup, then cosine decay to minLrRatio * lr at the last step. */
export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  totalSteps: number;
}

/** The learning rate for `step` (counting from 1). */
export function learningRate(step: number, s: LrSchedule): number {
  if (step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const decaySteps = s.totalSteps - s.warmupSteps;
  const progress = decaySteps <= 0 ? 1 : Math.min(1, (step - s.warmupSteps) / decaySteps);
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.lr * (s.minLrRatio + (1 - s.minLrRatio) * cosine);
}
