import { allHandlersFinished, condition, executeChild, startChild, workflowInfo } from '@temporalio/workflow';
import type { DatasetRef } from '../schemas/datasets';
import { DATASETS, INITIAL_MODEL, phaseName, phaseWorkflowId } from '../schemas/layout';
import type { Phase, StoredSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import { queues, type Deployment } from './activities';
import { distillationPhase } from './distillation-phase';
import { evalPhase } from './eval-phase';
import { grpoPhase } from './grpo-phase';
import type { PhaseInput, PhaseResult } from './phase-input';
import { PipelineControl } from './pipeline-control';
import { prepareDatasets } from './prepare-datasets';
import { rejectionSamplingPhase } from './rejection-sampling-phase';
import { R1Phase, R1Pipeline, R1Step } from './search-attributes';
import { sftPhase } from './sft-phase';

export interface PipelineInput {
  /** Validated by the client, its datasets in S3 (cli/datasets.ts); the workflow trusts it. */
  spec: StoredSpec;
  /** The deployment's task queue prefix (R1_TASK_QUEUE_PREFIX where the client started it). */
  taskQueuePrefix: string;
  /** Phases finished by an earlier run of this pipeline (`r1 restart`): they are not run again. */
  completed?: PhaseResult[];
  /** Hashes of the resolved spec of the starting model and of each phase, recorded in their checkpoints (absent in runs started before they were). */
  specHashes?: SpecHashes;
}

/** Computed where the spec was validated (cli/spec-file.ts): workflow code has no hash function. */
export interface SpecHashes {
  model: string;
  phases: string[];
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
 * spec as a child workflow (`<pipelineId>/<index>-<kind>`), each starting from the checkpoint the
 * previous one returned. Progress, pause and stop are PipelineControl's.
 */
export async function r1Pipeline(input: PipelineInput): Promise<PipelineResult> {
  const pipelineId = workflowInfo().workflowId;
  const { spec } = input;
  const deployment: Deployment = { taskQueuePrefix: input.taskQueuePrefix, device: spec.runtime.device, heartbeatSeconds: spec.timeouts.heartbeatSeconds };
  const control = new PipelineControl(pipelineId);

  const datasets = await executeChild(prepareDatasets, {
    workflowId: phaseWorkflowId(pipelineId, DATASETS),
    args: [{ pipelineId, deployment, datasets: spec.datasets }],
    typedSearchAttributes: [
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: DATASETS },
    ],
    staticSummary: `prepare ${Object.keys(spec.datasets).length} datasets`,
  }).catch((err) => control.fail('preparing the datasets', err));
  const initial = await queues(deployment)
    .train.initModel
    .executeWithOptions({ summary: 'starting model' }, [{ pipelineId, model: spec.model, name: INITIAL_MODEL, runtime: spec.runtime, specHash: input.specHashes?.model ?? null }])
    .catch((err) => control.fail('the starting model', err));

  const phases: PhaseResult[] = [];
  let base = initial;
  let baseModel = initial;
  /** A phase is done, now or in an earlier run: the next one starts from its checkpoint. */
  const advance = (result: PhaseResult) => {
    phases.push(result);
    base = result.checkpoint;
    if (result.kind === 'pretrain') baseModel = result.checkpoint;
    control.phaseDone(result);
  };

  const runPhase = async (index: number, phase: Phase, name: string): Promise<PhaseResult> => {
    control.phaseStarted(name, 'steps' in phase ? phase.steps : 0);
    const specHash = input.specHashes?.phases[index] ?? null;
    const phaseInput: PhaseInput = { pipelineId, deployment, name, index, phase, spec: { seed: spec.seed, runtime: spec.runtime, retention: spec.retention }, specHash, base, baseModel, datasets };
    const handle = await startChild(PHASE_WORKFLOWS[phase.kind] as (input: PhaseInput) => Promise<PhaseResult>, {
      workflowId: phaseWorkflowId(pipelineId, name),
      args: [phaseInput],
      typedSearchAttributes: [
        { key: R1Pipeline, value: pipelineId },
        { key: R1Phase, value: name },
        { key: R1Step, value: 0 },
      ],
      staticSummary: `${pipelineId} phase ${index}: ${phase.kind}`,
    });
    return control.follow(handle).catch((err) => control.fail(`phase ${name}`, err));
  };

  for (const [index, phase] of spec.phases.entries()) {
    const name = phaseName(index, phase.kind);
    const done = input.completed?.find((r) => r.name === name);
    if (done) {
      advance(done);
      continue;
    }
    if (!(await control.mayStartPhase())) break;
    advance(await runPhase(index, phase, name));
  }

  const stoppedEarly = phases.length < spec.phases.length;
  control.completed(stoppedEarly);
  await condition(allHandlersFinished);
  return { datasets, initial, phases, stoppedEarly };
}
