import {
  ApplicationFailure,
  defineQuery,
  executeChild,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DatasetRef } from '../activities/build-dataset';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import { prepareDatasets } from './prepare-datasets';
import { R1Phase, R1Pipeline, R1Status, R1Step, type PipelineStatus } from './search-attributes';

export interface PipelineInput {
  /** Validated by the client; the workflow trusts it. */
  spec: PipelineSpec;
}

export interface PhaseResult {
  index: number;
  kind: string;
  checkpoint: CheckpointRef | null;
  metrics: Metrics;
}

export interface PipelineResult {
  datasets: Record<string, DatasetRef>;
  phases: PhaseResult[];
}

export interface Progress {
  status: PipelineStatus;
  phase: string;
  step: number;
  metrics: Metrics;
  checkpoint: CheckpointRef | null;
}

export const progressQuery = defineQuery<Progress>('progress');

/**
 * The R1 recipe as one parent workflow: datasets first, then each phase of the spec as a child
 * workflow with a deterministic id (`<pipelineId>/<index>-<kind>`), each phase starting from the
 * checkpoint the previous one returned.
 */
export async function r1Pipeline(input: PipelineInput): Promise<PipelineResult> {
  const pipelineId = workflowInfo().workflowId;
  const progress: Progress = { status: 'running', phase: 'datasets', step: 0, metrics: {}, checkpoint: null };
  setHandler(progressQuery, () => progress);

  const report = (update: Partial<Progress>) => {
    Object.assign(progress, update);
    upsertSearchAttributes([
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: progress.phase },
      { key: R1Step, value: progress.step },
      { key: R1Status, value: progress.status },
    ]);
    setCurrentDetails(`**${progress.status}**: phase ${progress.phase}, step ${progress.step}`);
  };

  report({});
  const datasets = await executeChild(prepareDatasets, {
    workflowId: `${pipelineId}/datasets`,
    args: [{ pipelineId, datasets: input.spec.datasets }],
    typedSearchAttributes: [
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: 'datasets' },
    ],
    staticSummary: `prepare ${Object.keys(input.spec.datasets).length} datasets`,
  });

  const phases: PhaseResult[] = [];
  for (const [index, phase] of input.spec.phases.entries()) {
    // The client refuses specs with phases this build cannot run, so reaching here is a bug.
    throw ApplicationFailure.nonRetryable(`phase ${index} (${phase.kind}) has no workflow in this build`, 'UnsupportedPhase');
  }

  report({ status: 'completed', phase: 'done' });
  return { datasets, phases };
}
