import { Trainer } from './activities';
import { evaluatePolicy } from './evaluation';
import type { PhaseInput, PhaseResult } from './phase-input';
import { PhaseMessages } from './phase-messages';
import { runSftLoop } from './sft-loop';

/** Cold-start SFT (and the demo's pretraining): supervised steps over a dataset, eval at the end. */
export async function sftPhase(input: PhaseInput<'sft' | 'pretrain'>): Promise<PhaseResult> {
  const messages = new PhaseMessages();
  const p = input.phase;
  const result = await runSftLoop(
    input,
    { name: input.name, kind: p.kind, base: input.base, dataset: input.datasets[p.dataset], steps: p.steps, batchSize: p.batchSize, optimizer: p.optimizer, checkpointEvery: p.checkpointEvery, ...(p.kind === 'sft' && p.lora && { lora: p.lora }) },
    new Trainer(input.deployment),
    messages,
  );
  const evals: PhaseResult['evals'] = {};
  if (p.kind === 'sft' && p.eval) evals.final = await evaluatePolicy(input, result.checkpoint, p.eval, 'final checkpoint');
  return { index: input.index, name: input.name, kind: p.kind, checkpoint: result.checkpoint, metrics: { ...result.metrics, ...evals.final }, evals };
}
