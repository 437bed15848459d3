import { queues } from './activities';
import type { PhaseContext } from './phase-input';

/**
 * Applies the spec's retention (schemas/retention.ts) to some runs of a phase: after a checkpoint
 * was committed, and once more when the phase is done (`finished`: its policy snapshots go).
 * Nothing without a retention in the spec.
 */
export async function retain(input: PhaseContext, runs: string[], finished: boolean): Promise<void> {
  const { retention } = input.spec;
  if (!retention) return;
  await queues(input.deployment).cpu.applyRetention.executeWithOptions({ summary: `${input.name}: retention of ${runs.join(', ')}${finished ? ' (done)' : ''}` }, [
    { pipelineId: input.pipelineId, runs, retention, finished },
  ]);
}
