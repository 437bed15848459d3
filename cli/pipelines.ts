import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { r1Pipeline } from '../workflows/pipeline';
import type { Progress } from '../workflows/messages';
import { R1Phase, R1Pipeline, R1Status, R1Step } from '../workflows/search-attributes';
import { TASK_QUEUES } from '../workflows/task-queues';
import { specHash } from './spec-file';

function summary(spec: PipelineSpec): string {
  const phases = spec.phases.map((p) => p.kind).join(' -> ') || '(datasets only)';
  return spec.description ? `${spec.description}: ${phases}` : phases;
}

/** Starts a pipeline from a validated spec; the workflow id is the pipeline id. */
export async function startPipeline(client: Client, spec: PipelineSpec, id?: string) {
  const hash = specHash(spec);
  const pipelineId = id ?? spec.id ?? `r1-${hash.slice(0, 8)}`;
  const handle = await client.workflow.start<typeof r1Pipeline>('r1Pipeline', {
    taskQueue: TASK_QUEUES.orchestration,
    workflowId: pipelineId,
    args: [{ spec }],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    memo: { specHash: hash, summary: summary(spec) },
    staticSummary: `R1 pipeline: ${summary(spec)}`,
    typedSearchAttributes: [
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: 'datasets' },
      { key: R1Step, value: 0 },
      { key: R1Status, value: 'running' },
    ],
  });
  return handle;
}

export async function pipelineProgress(client: Client, pipelineId: string): Promise<Progress> {
  return client.workflow.getHandle(pipelineId).query<Progress>('progress');
}
