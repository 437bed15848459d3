import { ApplicationFailure, condition, rootCause, setCurrentDetails, setHandler, upsertSearchAttributes, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { ProducerEnvironment } from '../schemas/manifest';
import type { Metrics } from '../schemas/metrics';
import { describeEnvironment } from '../schemas/provenance';
import { pausedSignal, pauseUpdate, phaseProgressSignal, progressQuery, resumeUpdate, stopAfterPhaseUpdate, type PhaseProgress, type Progress } from './messages';
import type { PhaseInput, PhaseResult } from './phase-input';
import { R1Phase, R1Pipeline, R1Status, R1Step } from './search-attributes';

type PhaseHandle = ChildWorkflowHandle<(input: PhaseInput) => Promise<PhaseResult>>;

/**
 * A pipeline's messages and what the world sees of it: the progress its query answers, its search
 * attributes and UI details, pause and resume (forwarded to the running phase) and stop after the
 * current phase. The pipeline workflow itself only says where it is.
 */
export class PipelineControl {
  private readonly progress: Progress = { status: 'running', phase: 'datasets', step: 0, totalSteps: 0, metrics: {}, checkpoint: null, finished: [] };
  private paused = false;
  private stopRequested = false;
  private running: PhaseHandle | undefined;
  /** What produced each phase's latest checkpoint, as its reports said. */
  private readonly producers = new Map<string, ProducerEnvironment>();

  constructor(private readonly pipelineId: string) {
    setHandler(progressQuery, () => this.snapshot());
    setHandler(phaseProgressSignal, (p) => this.phaseReported(p));
    setHandler(pauseUpdate, () => this.setPaused(true));
    setHandler(resumeUpdate, () => this.setPaused(false));
    setHandler(stopAfterPhaseUpdate, () => {
      this.stopRequested = true;
      return this.progress;
    });
    this.publish();
  }

  /** True once a phase may start: not paused (waits here while it is), and no stop was asked for. */
  async mayStartPhase(): Promise<boolean> {
    await condition(() => !this.paused || this.stopRequested);
    return !this.stopRequested;
  }

  phaseStarted(phase: string, totalSteps: number): void {
    Object.assign(this.progress, { phase, step: 0, totalSteps, metrics: {} });
    this.publish();
  }

  /** Follows a started phase to its result, forwarding pause to it meanwhile. */
  async follow(handle: PhaseHandle): Promise<PhaseResult> {
    this.running = handle;
    if (this.paused) await handle.signal(pausedSignal, true);
    try {
      return await handle.result();
    } finally {
      this.running = undefined;
    }
  }

  /** A phase's result, run now or by an earlier run: final, whatever progress report arrives after it. */
  phaseDone(result: PhaseResult): void {
    this.progress.finished.push({ phase: result.name, metrics: result.metrics });
    Object.assign(this.progress, { step: this.progress.totalSteps, checkpoint: result.checkpoint, metrics: result.metrics });
  }

  completed(stoppedEarly: boolean): void {
    Object.assign(this.progress, { status: 'completed', phase: stoppedEarly ? 'stopped' : 'done' });
    this.publish();
  }

  /** Fails the pipeline with the root cause in its message, so that the UI and the CLI show what went wrong. */
  fail(stage: string, err: unknown): never {
    this.progress.status = 'failed';
    this.publish();
    throw ApplicationFailure.nonRetryable(`${stage} failed: ${rootCause(err)}`, 'PipelineFailed', { stage });
  }

  private snapshot(): Progress {
    return { ...this.progress, status: this.paused ? 'paused' : this.progress.status };
  }

  private phaseReported(p: PhaseProgress): void {
    // What made a checkpoint counts even in a finished phase's last report; the details show it with their next update.
    if (p.environment) this.producers.set(p.phase, p.environment);
    if (p.phase !== this.progress.phase) return; // a finished phase's last report, arriving late
    Object.assign(this.progress, { step: p.step, totalSteps: p.totalSteps, metrics: p.metrics, checkpoint: p.checkpoint ?? this.progress.checkpoint });
    this.publish();
  }

  private async setPaused(value: boolean): Promise<Progress> {
    this.paused = value;
    this.publish();
    if (this.running) await this.running.signal(pausedSignal, value);
    return this.snapshot();
  }

  /** Search attributes for queries, and the UI's current details. */
  private publish(): void {
    const { status, phase, step, totalSteps } = this.snapshot();
    upsertSearchAttributes([
      { key: R1Pipeline, value: this.pipelineId },
      { key: R1Phase, value: phase },
      { key: R1Step, value: step },
      { key: R1Status, value: status },
    ]);
    setCurrentDetails(`**${status}** · phase \`${phase}\` · step ${step}/${totalSteps}${glance(this.progress.metrics)}${this.provenance()}`);
  }

  /** What made the latest checkpoint, and every phase whose checkpoints cannot be repeated bit for bit. */
  private provenance(): string {
    const latest = [...this.producers.values()].at(-1);
    if (!latest) return '';
    const caveats = [...this.producers].flatMap(([phase, env]) => env.warnings.map((w) => `\`${phase}\`: ${w}`));
    return `\n\nlatest checkpoint made by ${describeEnvironment(latest)}${caveats.length ? `\n\n**not bit-reproducible**: ${caveats.join('; ')}` : ''}`;
  }
}

function glance(metrics: Metrics): string {
  const shown = Object.entries(metrics)
    .slice(0, 6)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
  return shown ? ` · ${shown}` : '';
}
