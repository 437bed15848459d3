import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  rootCause,
  executeChild,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { DatasetRef } from '../activities/build-dataset';
import type { Phase, PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import { queues } from './activities';
import { distillationPhase } from './distillation-phase';
import { evalPhase } from './eval-phase';
import { grpoPhase } from './grpo-phase';
import { pausedSignal, pauseUpdate, phaseProgressSignal, progressQuery, resumeUpdate, stopAfterPhaseUpdate, type Progress } from './messages';
import type { PhaseInput, PhaseResult } from './phase-input';
import { prepareDatasets } from './prepare-datasets';
import { rejectionSamplingPhase } from './rejection-sampling-phase';
import { R1Phase, R1Pipeline, R1Status, R1Step } from './search-attributes';
import { sftPhase } from './sft-phase';

export interface PipelineInput {
  /** Validated by the client; the workflow trusts it. */
  spec: PipelineSpec;
  /** The deployment's task queue prefix (R1_TASK_QUEUE_PREFIX where the client started it). */
  taskQueuePrefix: string;
  /** Phases finished by an earlier run of this pipeline (`r1 restart`): they are not run again. */
  completed?: PhaseResult[];
}

export interface PipelineResult {
  datasets: Record<string, DatasetRef>;
  initial: CheckpointRef;
  phases: PhaseResult[];
  stoppedEarly: boolean;
}

/** The workflow that runs each phase kind. */
const PHASE_WORKFLOWS = {
  pretrain: sftPhase,
  sft: sftPhase,
  grpo: grpoPhase,
  'rejection-sampling': rejectionSamplingPhase,
  distill: distillationPhase,
  eval: evalPhase,
} satisfies Record<Phase['kind'], (input: never) => Promise<PhaseResult>>;

/**
 * The R1 recipe as one parent workflow: datasets, the starting model, then each phase of the
 * spec as a child workflow with a deterministic id (`<pipelineId>/<index>-<kind>`), each phase
 * starting from the checkpoint the previous one returned.
 */
export async function r1Pipeline(input: PipelineInput): Promise<PipelineResult> {
  const pipelineId = workflowInfo().workflowId;
  const spec = input.spec;
  const deployment = { taskQueuePrefix: input.taskQueuePrefix, heartbeatSeconds: spec.timeouts.heartbeatSeconds };
  const { compute } = queues(deployment);
  const progress: Progress = { status: 'running', phase: 'datasets', step: 0, totalSteps: 0, metrics: {}, checkpoint: null, finished: [] };
  let paused = false;
  let stopRequested = false;
  let running: ChildWorkflowHandle<(input: PhaseInput) => Promise<PhaseResult>> | undefined;

  const publish = () => {
    const status = paused ? 'paused' : progress.status;
    upsertSearchAttributes([
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: progress.phase },
      { key: R1Step, value: progress.step },
      { key: R1Status, value: status },
    ]);
    const metrics = Object.entries(progress.metrics)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
      .join(', ');
    setCurrentDetails(`**${status}** · phase \`${progress.phase}\` · step ${progress.step}/${progress.totalSteps}${metrics ? ` · ${metrics}` : ''}`);
  };
  const setPaused = async (value: boolean) => {
    paused = value;
    publish();
    if (running) await running.signal(pausedSignal, value);
    return { ...progress, status: paused ? ('paused' as const) : progress.status };
  };

  setHandler(progressQuery, () => ({ ...progress, status: paused ? 'paused' : progress.status }));
  setHandler(phaseProgressSignal, (p) => {
    if (p.phase !== progress.phase) return; // a finished phase's last report, arriving late
    Object.assign(progress, { step: p.step, totalSteps: p.totalSteps, metrics: p.metrics, checkpoint: p.checkpoint ?? progress.checkpoint });
    publish();
  });
  setHandler(pauseUpdate, () => setPaused(true));
  setHandler(resumeUpdate, () => setPaused(false));
  setHandler(stopAfterPhaseUpdate, () => {
    stopRequested = true;
    return progress;
  });

  /** Fails the pipeline with the root cause in its message, so the UI and CLI show what went wrong. */
  const fail = (stage: string, err: unknown): never => {
    progress.status = 'failed';
    publish();
    throw ApplicationFailure.nonRetryable(`${stage} failed: ${rootCause(err)}`, 'PipelineFailed', { stage });
  };

  publish();
  const datasets = await executeChild(prepareDatasets, {
    workflowId: `${pipelineId}/datasets`,
    args: [{ pipelineId, deployment, datasets: spec.datasets }],
    typedSearchAttributes: [
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: 'datasets' },
    ],
    staticSummary: `prepare ${Object.keys(spec.datasets).length} datasets`,
  }).catch((err) => fail('preparing the datasets', err));
  const initial = await compute.initModel
    .executeWithOptions({ summary: 'starting model' }, [{ pipelineId, model: spec.model, name: 'init' }])
    .catch((err) => fail('the starting model', err));

  const phases: PhaseResult[] = [];
  let base = initial;
  let baseModel = initial;
  for (const [index, phase] of spec.phases.entries()) {
    const name = `${index}-${phase.kind}`;
    const done = input.completed?.find((r) => r.name === name);
    if (done) {
      phases.push(done);
      progress.finished.push({ phase: name, metrics: done.metrics });
      base = done.checkpoint;
      if (phase.kind === 'pretrain') baseModel = done.checkpoint;
      continue;
    }
    await condition(() => !paused || stopRequested);
    if (stopRequested) break;
    Object.assign(progress, { phase: name, step: 0, totalSteps: 'steps' in phase ? phase.steps : 0, metrics: {} });
    publish();

    const phaseInput: PhaseInput = {
      pipelineId,
      deployment,
      name,
      index,
      phase,
      spec: { seed: spec.seed, chatTemplate: spec.chatTemplate, tokenizer: spec.tokenizer, compute: spec.compute, timeouts: spec.timeouts },
      base,
      baseModel,
      datasets,
    };
    const workflow = PHASE_WORKFLOWS[phase.kind] as (input: PhaseInput) => Promise<PhaseResult>;
    running = await startChild(workflow, {
      workflowId: `${pipelineId}/${name}`,
      args: [phaseInput],
      typedSearchAttributes: [
        { key: R1Pipeline, value: pipelineId },
        { key: R1Phase, value: name },
        { key: R1Step, value: 0 },
      ],
      staticSummary: `${pipelineId} phase ${index}: ${phase.kind}`,
    });
    if (paused) await running.signal(pausedSignal, true);
    const result = await running.result().catch((err) => fail(`phase ${name}`, err));
    running = undefined;
    phases.push(result);
    base = result.checkpoint;
    if (phase.kind === 'pretrain') baseModel = result.checkpoint;
    progress.finished.push({ phase: name, metrics: result.metrics });
    // The phase's last progress signal may land after its result: the result is final.
    Object.assign(progress, { step: progress.totalSteps, checkpoint: result.checkpoint, metrics: result.metrics });
  }

  const stoppedEarly = phases.length < spec.phases.length;
  Object.assign(progress, { status: 'completed', phase: stoppedEarly ? 'stopped' : 'done' });
  publish();
  await condition(allHandlersFinished);
  return { datasets, initial, phases, stoppedEarly };
}
