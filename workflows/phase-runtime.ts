import { condition, getExternalWorkflowHandle, log, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
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

  /**
   * Not awaited: the signal goes out with the phase's next command, so progress costs no extra
   * workflow task per step. A pipeline that is gone cannot show progress anyway.
   */
  report(progress: PhaseProgress): void {
    upsertSearchAttributes([{ key: R1Step, value: progress.step }]);
    const parent = workflowInfo().parent;
    if (!parent) return;
    getExternalWorkflowHandle(parent.workflowId, parent.runId)
      .signal(phaseProgressSignal, progress)
      .catch((err) => log.warn('progress signal to the pipeline failed', { error: String(err) }));
  }
}
