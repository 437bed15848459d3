import type { Optimizer } from '../schemas/optimizer';

/** An optimizer step's settings and where the step stands in its phase (the schedule reads it). */
export interface OptimizerStep {
  optimizer: Optimizer;
  /** The phase's step, counting from 1; GRPO's several updates of one step share it. */
  step: number;
  totalSteps: number;
}

/** Linear warmup, then cosine decay to minLrRatio * lr at the last step. */
export function learningRate({ optimizer: o, step, totalSteps }: OptimizerStep): number {
  if (step <= o.warmupSteps) return (o.lr * step) / o.warmupSteps;
  const decaySteps = totalSteps - o.warmupSteps;
  const progress = decaySteps <= 0 ? 1 : Math.min(1, (step - o.warmupSteps) / decaySteps);
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * cosine);
}
