import { Client, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { fromPayloadsAtIndex } from '@temporalio/common';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { PipelineInput, r1Pipeline } from '../workflows/pipeline';
import type { PhaseResult } from '../workflows/phase-input';
import type { Progress } from '../workflows/messages';
import { R1Phase, R1Pipeline, R1Status, R1Step } from '../workflows/search-attributes';
import { taskQueue } from '../workflows/task-queues';
import { temporalEnv } from '../schemas/environment';
import { ArtifactStore } from '../storage/artifact-store';
import { storeDatasets } from './datasets';
import { specHash, specHashes } from './spec-file';

function summary(spec: PipelineSpec): string {
  const phases = spec.phases.map((p) => p.kind).join(' -> ') || '(datasets only)';
  return spec.description ? `${spec.description}: ${phases}` : phases;
}

/** A readable overview of the spec for the UI's Details panel: the model and each phase's settings. */
function details(spec: PipelineSpec): string {
  const model = 'config' in spec.model ? `new model ${JSON.stringify(spec.model.config)}` : `from ${spec.model.checkpoint}`;
  const phases = spec.phases.map((p, i) => {
    const { kind, ...settings } = p;
    return `${i}. **${kind}** \`${JSON.stringify(settings)}\``;
  });
  return [`**model**: ${model}`, `**datasets**: ${Object.keys(spec.datasets).join(', ') || 'none'}`, ...phases].join('\n\n');
}

/** What `r1 restart` hands a new run: the phases an earlier run finished, and which run that was. */
export interface RestartOf {
  previousRunId: string;
  completed: PhaseResult[];
}

/** A pipeline id that is taken: a pipeline runs once per id, and `r1 restart` continues one. */
export class PipelineExistsError extends Error {
  override readonly name = 'PipelineExistsError';
}

export interface StartOptions {
  /** A new run of an existing pipeline (`r1 restart`). */
  restart?: RestartOf;
  /** Where the spec came from, named in its problems. */
  source?: string;
  store?: ArtifactStore;
}

/**
 * Starts a pipeline from a validated spec, its datasets in S3 first (cli/datasets.ts: problems
 * with them throw SpecError before anything starts). The workflow id is the pipeline id: `id`,
 * else the spec's, else one made from the spec's hash.
 */
export async function startPipeline(client: Client, spec: PipelineSpec, id?: string, options: StartOptions = {}) {
  const { restart, source = 'spec' } = options;
  const pipelineId = id ?? spec.id ?? `r1-${specHash(spec).slice(0, 8)}`;
  const store = options.store ?? ArtifactStore.fromEnv();
  const stored = await storeDatasets(store, pipelineId, spec, source);
  const hash = specHash(stored);
  const { taskQueuePrefix } = temporalEnv();
  const handle = await client.workflow.start<typeof r1Pipeline>('r1Pipeline', {
    taskQueue: taskQueue(taskQueuePrefix, 'orchestration', spec.runtime.device),
    workflowId: pipelineId,
    args: [{ spec: stored, taskQueuePrefix, completed: restart?.completed, specHashes: specHashes(stored) }],
    // An id is used by one pipeline; `r1 restart` checks the old run's state before it adds a run.
    workflowIdReusePolicy: restart ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // `restartOf` links the runs of one pipeline, so that `r1 history` can audit all of them.
    memo: { specHash: hash, summary: summary(spec), ...(restart && { restartOf: restart.previousRunId }) },
    staticSummary: `R1 pipeline: ${summary(spec)}${restart ? ` (restart, ${restart.completed.length} phases reused)` : ''}`,
    staticDetails: details(spec),
    typedSearchAttributes: [
      { key: R1Pipeline, value: pipelineId },
      { key: R1Phase, value: 'datasets' },
      { key: R1Step, value: 0 },
      { key: R1Status, value: 'running' },
    ],
  }).catch(async (err: unknown) => {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const status = (await client.workflow.getHandle(pipelineId).describe()).status.name.toLowerCase();
    throw new PipelineExistsError(`pipeline ${pipelineId} already exists (${status}): start this spec with another --id, or continue that pipeline with \`r1 restart ${pipelineId}\``);
  });
  return handle;
}

export async function pipelineProgress(client: Client, pipelineId: string): Promise<Progress> {
  return client.workflow.getHandle(pipelineId).query<Progress>('progress');
}

/** The input a pipeline run was started with, read from the first event of its history. */
export async function pipelineInput(client: Client, pipelineId: string, runId?: string): Promise<PipelineInput> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: pipelineId, runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`the history of ${pipelineId} has no start event`);
  return fromPayloadsAtIndex<PipelineInput>(client.options.loadedDataConverter.payloadConverter, 0, started.input?.payloads);
}
