import { condition, getExternalWorkflowHandle, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { pausedSignal, phaseProgressSignal, type PhaseProgress } from './messages';
import { R1Step } from './search-attributes';

/**
 * What every phase workflow does around its steps: honour pause (forwarded by the pipeline) at
 * step boundaries, and report progress to its pipeline and its own search attributes.
 */
export class PhaseRuntime {
  private paused = false;

  constructor() {
    setHandler(pausedSignal, (paused) => {
      this.paused = paused;
    });
  }

  /** Waits here while the pipeline is paused. */
  async checkpointBoundary(): Promise<void> {
    await condition(() => !this.paused);
  }

  async report(progress: PhaseProgress): Promise<void> {
    upsertSearchAttributes([{ key: R1Step, value: progress.step }]);
    const parent = workflowInfo().parent;
    if (parent) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(phaseProgressSignal, progress);
  }
}
