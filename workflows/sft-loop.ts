import type { DatasetRef } from '../activities/build-dataset';
import type { StepsResult } from '../activities/train-sft';
import type { Optimizer } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { Trainer } from './activities';
import type { PhaseContext } from './phase-input';
import type { PhaseRuntime } from './phase-runtime';

export interface SftLoop {
  /** Storage name of the run: the phase name, or `<phase>.sft` inside rejection sampling. */
  name: string;
  kind: 'pretrain' | 'sft';
  base: CheckpointRef;
  dataset: DatasetRef;
  steps: number;
  batchSize: number;
  optimizer: Optimizer;
  checkpointEvery: number;
}

/** Supervised steps in chunks of `checkpointEvery`, each chunk ending in a committed checkpoint. */
export async function runSftLoop(input: PhaseContext, loop: SftLoop, trainer: Trainer, runtime: PhaseRuntime): Promise<StepsResult> {
  let result: StepsResult | undefined;
  for (;;) {
    // The next checkpoint boundary after what is done (a resumed phase may stand between two).
    const done = result?.step ?? 0;
    const toStep = Math.min(loop.steps, (Math.floor(done / loop.checkpointEvery) + 1) * loop.checkpointEvery);
    await runtime.checkpointBoundary();
    result = await trainer.run((a) =>
      a.trainSftSteps.executeWithOptions({ summary: `${loop.name}: train steps to ${toStep} of ${loop.steps}` }, [
        {
          pipelineId: input.pipelineId,
          phase: loop.name,
          kind: loop.kind,
          base: loop.base,
          toStep,
          totalSteps: loop.steps,
          dataset: loop.dataset,
          batchSize: loop.batchSize,
          optimizer: loop.optimizer,
          seed: input.spec.seed + input.index,
          chatTemplate: input.spec.chatTemplate,
          tokenizer: input.spec.tokenizer,
          device: input.spec.compute.device,
        },
      ]),
    );
    runtime.report({ phase: input.name, step: result.step, totalSteps: loop.steps, metrics: result.metrics, checkpoint: result.checkpoint }, true);
    if (result.step >= loop.steps) return result;
  }
}
