import { evaluatePolicy } from './evaluation';
import type { PhaseInput, PhaseResult } from './phase-input';

/** Evaluates the checkpoint it is given; the pipeline's checkpoint passes through unchanged. */
export async function evalPhase(input: PhaseInput<'eval'>): Promise<PhaseResult> {
  const metrics = await evaluatePolicy(input, input.base, input.phase, `step ${input.base.step} of ${input.base.phase}`, input.phase.rewards);
  return { index: input.index, name: input.name, kind: 'eval', checkpoint: input.base, metrics, evals: { [input.base.phase]: metrics } };
}
