import { subRun } from '../schemas/layout';
import { queues, Trainer } from './activities';
import { evaluatePolicy } from './evaluation';
import { phaseSeed, type PhaseInput, type PhaseResult } from './phase-input';
import { PhaseMessages } from './phase-messages';
import { sampleDataset } from './sample-dataset';
import { runSftLoop } from './sft-loop';

/**
 * R1's third stage: sample k answers per prompt from the RL checkpoint, keep verified-correct,
 * readable ones (deduplicated), mix in general data, store the dataset, then SFT on it, from
 * the base model (as R1 does) or from the current checkpoint.
 */
export async function rejectionSamplingPhase(input: PhaseInput<'rejection-sampling'>): Promise<PhaseResult> {
  const messages = new PhaseMessages();
  const p = input.phase;
  const { cpu } = queues(input.deployment);
  const sft = subRun.sft(input.name);
  const samples = await sampleDataset(input, { label: 'samples', policy: input.base, dataset: p.dataset, samplesPerPrompt: p.samplesPerPrompt, sampling: p.sampling, rewards: p.rewards, fanOut: p.fanOut });
  const dataset = await cpu.buildSftDataset.executeWithOptions({ summary: `${input.name}: keep correct samples` }, [
    {
      pipelineId: input.pipelineId,
      name: sft,
      prompts: input.datasets[p.dataset],
      samples,
      keepPerPrompt: p.keepPerPrompt,
      general: p.general && { dataset: input.datasets[p.general.dataset], share: p.general.share },
      seed: phaseSeed(input),
    },
  ]);
  const result = await runSftLoop(
    input,
    { name: sft, kind: 'sft', base: p.sftFrom === 'base' ? input.baseModel : input.base, dataset, ...p.sft },
    new Trainer(input.deployment),
    messages,
  );
  const evals: PhaseResult['evals'] = {};
  if (p.eval) evals.final = await evaluatePolicy(input, result.checkpoint, p.eval, 'final checkpoint');
  const selection = { kept: dataset.kept, promptsWithCorrect: dataset.promptsWithAny, datasetRows: dataset.rows };
  return { index: input.index, name: input.name, kind: 'rejection-sampling', checkpoint: result.checkpoint, metrics: { ...result.metrics, ...selection, ...evals.final }, evals };
}
