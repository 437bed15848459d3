import { queues, Trainer } from './activities';
import { evaluatePolicy } from './evaluation';
import type { PhaseInput, PhaseResult } from './phase-input';
import { PhaseRuntime } from './phase-runtime';
import { sampleDataset } from './sample-dataset';
import { runSftLoop } from './sft-loop';

/**
 * Distillation: the teacher (this phase's input checkpoint) solves the prompts, verified-correct
 * solutions become an SFT set, the student learns them, and both are evaluated on the same
 * held-out set. The student is a pretrained checkpoint (`student: { checkpoint }`, checked end to
 * end before training) or a new model from its own config. The phase's result is the student.
 */
export async function distillationPhase(input: PhaseInput<'distill'>): Promise<PhaseResult> {
  const runtime = new PhaseRuntime();
  const p = input.phase;
  const { cpu, compute } = queues(input.deployment);
  const sampled = await sampleDataset(input, {
    label: 'teacher',
    policy: input.base,
    dataset: p.dataset,
    samplesPerPrompt: p.samplesPerPrompt,
    sampling: { maxNewTokens: p.maxNewTokens, temperature: p.temperature, topP: p.topP, topK: p.topK },
    rewards: p.rewards,
  });
  const dataset = await cpu.buildSftDataset.executeWithOptions({ summary: `${input.name}: keep verified teacher solutions` }, [
    {
      pipelineId: input.pipelineId,
      name: `${input.name}.sft`,
      prompts: input.datasets[p.dataset],
      rollouts: sampled.rollouts,
      rewards: sampled.rewards,
      keepPerPrompt: p.samplesPerPrompt,
      seed: input.spec.seed + input.index,
    },
  ]);
  const pretrained = 'checkpoint' in p.student;
  const student = await compute.initModel.executeWithOptions({ summary: `${input.name}: ${pretrained ? 'load the pretrained student' : 'initialise the student'}` }, [
    { pipelineId: input.pipelineId, model: p.student, name: `${input.name}.student-init` },
  ]);
  const result = await runSftLoop(
    input,
    { name: `${input.name}.student`, kind: 'sft', base: student, dataset, ...p.sft },
    new Trainer(input.deployment),
    runtime,
  );
  const [teacher, studentEval] = await Promise.all([
    evaluatePolicy(input, input.base, p.eval, 'teacher'),
    evaluatePolicy(input, result.checkpoint, p.eval, 'student'),
  ]);
  return {
    index: input.index,
    name: input.name,
    kind: 'distill',
    checkpoint: result.checkpoint,
    metrics: { ...result.metrics, ...studentEval, teacherPass1: teacher.pass1, kept: dataset.kept },
    evals: { teacher, student: studentEval },
  };
}
