import { condition, getExternalWorkflowHandle, log, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { pausedSignal, phaseProgressSignal, type PhaseProgress } from './messages';
import { R1Step } from './search-attributes';

/**
 * Each progress signal costs a workflow task in the phase (its delivery) and one in the pipeline,
 * next to the step's own two or three: on a one-second step that is several percent of its wall
 * time. Steps faster than this report only at checkpoints and every this many milliseconds.
 */
const REPORT_INTERVAL_MS = 5_000;

/**
 * What every phase workflow does around its steps: honour pause (forwarded by the pipeline) at
 * step boundaries, and report progress to its pipeline and its own search attributes.
 */
export class PhaseMessages {
  private paused = false;
  private lastReport = -Infinity;

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
   * Not awaited: the signal goes out with the phase's next command. A pipeline that is gone cannot
   * show progress anyway. `Date.now()` is the workflow clock here (the time of the workflow task,
   * the same on replay).
   */
  report(progress: PhaseProgress, checkpointed: boolean): void {
    const now = Date.now();
    if (!checkpointed && now - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = now;
    upsertSearchAttributes([{ key: R1Step, value: progress.step }]);
    const parent = workflowInfo().parent;
    if (!parent) return;
    getExternalWorkflowHandle(parent.workflowId, parent.runId)
      .signal(phaseProgressSignal, progress)
      .catch((err) => log.warn('progress signal to the pipeline failed', { error: String(err) }));
  }
}
