import type { DatasetRef } from '../schemas/datasets';
import type { Lora } from '../schemas/lora';
import type { Optimizer } from '../schemas/optimizer';
import type { CheckpointRef } from '../schemas/refs';
import type { SftStepsResult } from '../schemas/training';
import type { Trainer } from './activities';
import { policyRuntime, type PhaseContext } from './phase-input';
import type { PhaseMessages } from './phase-messages';
import { retain } from './retention';

export interface SftLoop {
  /** Storage name of the run: the phase name, or its `.sft` / `.student` sub-run (schemas/layout.ts). */
  name: string;
  kind: 'pretrain' | 'sft';
  base: CheckpointRef;
  dataset: DatasetRef;
  steps: number;
  batchSize: number;
  optimizer: Optimizer;
  checkpointEvery: number;
  lora?: Lora;
}

/** Supervised steps in chunks of `checkpointEvery`, each chunk ending in a committed checkpoint. */
export async function runSftLoop(input: PhaseContext, loop: SftLoop, trainer: Trainer, messages: PhaseMessages): Promise<SftStepsResult> {
  let result: SftStepsResult | undefined;
  for (;;) {
    // The next checkpoint boundary after what is done (a resumed phase may stand between two).
    const done = result?.step ?? 0;
    const toStep = Math.min(loop.steps, (Math.floor(done / loop.checkpointEvery) + 1) * loop.checkpointEvery);
    await messages.checkpointBoundary();
    result = await trainer.run((a) =>
      a.trainSftSteps.executeWithOptions({ summary: `${loop.name}: train steps to ${toStep} of ${loop.steps}` }, [
        {
          pipelineId: input.pipelineId,
          phase: loop.name,
          kind: loop.kind,
          base: loop.base,
          ...(loop.lora && { lora: loop.lora }),
          runtime: policyRuntime(input),
          specHash: input.specHash,
          toStep,
          totalSteps: loop.steps,
          dataset: loop.dataset,
          batchSize: loop.batchSize,
          optimizer: loop.optimizer,
        },
      ]),
    );
    const { step, metrics, checkpoint, environment } = result;
    messages.report({ phase: input.name, step, totalSteps: loop.steps, metrics, checkpoint, environment }, true);
    await retain(input, [loop.name], false);
    if (result.step >= loop.steps) return result;
  }
}
