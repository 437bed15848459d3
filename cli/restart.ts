import { Client, WorkflowNotFoundError, type WorkflowExecutionStatusName } from '@temporalio/client';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { PhaseResult } from '../workflows/phase-input';
import type { PipelineResult } from '../workflows/pipeline';
import { DATASETS, phaseName, phaseWorkflowId } from '../schemas/layout';
import { pipelineInput, startPipeline } from './pipelines';

/** A run that `r1 restart` must not replace; the message says why and what to do instead. */
export class RestartRefused extends Error {
  override readonly name = 'RestartRefused';
}

/** Runs that ended without finishing their work: the ones worth restarting. */
const RESTARTABLE: WorkflowExecutionStatusName[] = ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'];

async function statusOf(client: Client, workflowId: string): Promise<WorkflowExecutionStatusName | null> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * The server closes a closed pipeline's children (parent close policy) a moment after the
 * pipeline itself; a new run must not start its phase while the old one still runs.
 */
async function statusOnceClosed(client: Client, workflowId: string, timeoutMs = 15_000): Promise<WorkflowExecutionStatusName | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await statusOf(client, workflowId);
    if (status !== 'RUNNING') return status;
    if (Date.now() > deadline) throw new RestartRefused(`${workflowId} is still running although its pipeline closed; terminate it, then restart`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Results of the phases that finished, in order, read from their child workflows (the latest
 * execution of each phase's id). Stops at the first phase that did not complete: the one to resume.
 */
export async function completedPhases(client: Client, pipelineId: string, spec: PipelineSpec): Promise<PhaseResult[]> {
  const completed: PhaseResult[] = [];
  for (const [index, phase] of spec.phases.entries()) {
    const childId = phaseWorkflowId(pipelineId, phaseName(index, phase.kind));
    if ((await statusOnceClosed(client, childId)) !== 'COMPLETED') break;
    completed.push(await client.workflow.getHandle(childId).result());
  }
  return completed;
}

/**
 * Starts a new run of a failed, terminated or stopped (`r1 stop`) pipeline under the same id:
 * finished phases are handed over as `completed` and not run again; the interrupted phase starts
 * again and its training activities resume from the latest checkpoint committed in S3.
 */
export async function restartPipeline(client: Client, pipelineId: string) {
  const old = client.workflow.getHandle(pipelineId);
  const previous = await old.describe();
  const status = previous.status.name;
  if (status === 'RUNNING') throw new RestartRefused(`${pipelineId} is still running; pause it (r1 pause) or stop it (r1 stop) instead`);
  if (status === 'COMPLETED' && !((await old.result()) as PipelineResult).stoppedEarly) {
    throw new RestartRefused(`${pipelineId} completed; there is nothing to restart (start a new pipeline with another --id)`);
  }
  if (status !== 'COMPLETED' && !RESTARTABLE.includes(status)) {
    throw new RestartRefused(`${pipelineId} is ${status}; only a failed, terminated, cancelled, timed-out or stopped run can be restarted`);
  }

  const { spec } = await pipelineInput(client, pipelineId, previous.runId);
  await statusOnceClosed(client, phaseWorkflowId(pipelineId, DATASETS));
  const completed = await completedPhases(client, pipelineId, spec);
  const handle = await startPipeline(client, spec, pipelineId, { restart: { previousRunId: previous.runId, completed } });
  return { handle, previous: { runId: previous.runId, status }, completed };
}
