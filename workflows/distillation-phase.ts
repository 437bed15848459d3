import { subRun } from '../schemas/layout';
import { queues, Trainer } from './activities';
import { evaluatePolicy } from './evaluation';
import { phaseSeed, type PhaseInput, type PhaseResult } from './phase-input';
import { PhaseMessages } from './phase-messages';
import { sampleDataset } from './sample-dataset';
import { runSftLoop } from './sft-loop';

/**
 * Distillation: the teacher (this phase's input checkpoint) solves the prompts, verified-correct
 * solutions become an SFT set, the student learns them, and both are evaluated on the same
 * held-out set. The student is a pretrained checkpoint (`student: { checkpoint }`, checked end to
 * end before training) or a new model from its own config. The phase's result is the student.
 */
export async function distillationPhase(input: PhaseInput<'distill'>): Promise<PhaseResult> {
  const messages = new PhaseMessages();
  const p = input.phase;
  const { cpu, train } = queues(input.deployment);
  const samples = await sampleDataset(input, { label: 'teacher', policy: input.base, dataset: p.dataset, samplesPerPrompt: p.samplesPerPrompt, sampling: p.sampling, rewards: p.rewards, fanOut: p.fanOut });
  const dataset = await cpu.buildSftDataset.executeWithOptions({ summary: `${input.name}: keep verified teacher solutions` }, [
    {
      pipelineId: input.pipelineId,
      name: subRun.sft(input.name),
      prompts: input.datasets[p.dataset],
      samples,
      keepPerPrompt: p.samplesPerPrompt,
      seed: phaseSeed(input),
    },
  ]);
  const pretrained = 'checkpoint' in p.student;
  const student = await train.initModel.executeWithOptions({ summary: `${input.name}: ${pretrained ? 'load the pretrained student' : 'initialise the student'}` }, [
    { pipelineId: input.pipelineId, model: p.student, name: subRun.studentInit(input.name), runtime: input.spec.runtime, specHash: input.specHash },
  ]);
  const result = await runSftLoop(
    input,
    { name: subRun.student(input.name), kind: 'sft', base: student, dataset, ...p.sft },
    new Trainer(input.deployment),
    messages,
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
