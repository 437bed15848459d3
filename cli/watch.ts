import { Client, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { Metrics } from '../schemas/metrics';
import { progressQuery, type Progress } from '../workflows/messages';
import type { PipelineResult } from '../workflows/pipeline';
import { pipelineInput } from './pipelines';

/** The metrics worth a glance while a pipeline trains (name in the metrics -> label); the rest is in `r1 status`. */
const GLANCE: [string, string][] = [
  ['reward', 'reward'],
  ['pass1', 'accuracy'],
  ['loss', 'loss'],
];

function glance(metrics: Metrics): string {
  return GLANCE.filter(([name]) => name in metrics)
    .map(([name, label]) => `${label} ${metrics[name].toFixed(4)}`)
    .join('  ');
}

/** Which of the spec's phases runs, counting from 1; 0 while datasets are prepared. */
function phasePosition(progress: Progress, phases: number): number {
  const index = /^(\d+)-/.exec(progress.phase);
  if (index) return Number(index[1]) + 1;
  return progress.phase === 'done' ? phases : progress.finished.length;
}

/** Phases done, the running one counted by its share of steps: how far the phases bar fills. */
function phasesDone(progress: Progress, phases: number): number {
  const index = /^(\d+)-/.exec(progress.phase);
  if (!index) return phasePosition(progress, phases);
  return Number(index[1]) + (progress.totalSteps > 0 ? progress.step / progress.totalSteps : 0);
}

function bar(done: number, total: number, width = 24): string {
  const full = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One line per state, for logs and pipes: printed only when it changes. */
export function progressLine(progress: Progress, phases: number): string {
  const parts = [progress.status, `phase ${phasePosition(progress, phases)}/${phases} ${progress.phase}`];
  if (progress.totalSteps > 0) parts.push(`step ${progress.step}/${progress.totalSteps}`);
  const metrics = glance(progress.metrics);
  if (metrics) parts.push(metrics);
  return parts.join(' · ');
}

/** Two progress bars (phases, steps of the running phase) for a terminal. */
export function progressBars(id: string, progress: Progress, phases: number): string[] {
  const position = phasePosition(progress, phases);
  return [
    `${id}  ${progress.status}`,
    `  phases ${bar(phasesDone(progress, phases), phases)} ${position}/${phases} ${progress.phase}`,
    `  steps  ${bar(progress.step, progress.totalSteps)} ${progress.step}/${progress.totalSteps}  ${glance(progress.metrics)}`,
  ];
}

/** Redraws a block of lines in place on a terminal; appends changed lines anywhere else. */
export class Display {
  private drawn: string[] = [];

  constructor(private readonly out: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>) {}

  show(lines: string[]): void {
    if (lines.join('\n') === this.drawn.join('\n')) return;
    if (this.out.isTTY && this.drawn.length > 0) this.out.write(`\x1b[${this.drawn.length}A`);
    this.out.write(lines.map((l) => (this.out.isTTY ? `\x1b[2K${l}` : l)).join('\n') + '\n');
    this.drawn = lines;
  }
}

/** How a closed pipeline ended, for a person. Errors that are not about the run itself propagate. */
export function closedBecause(err: unknown): string {
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause;
  if (cause instanceof TerminatedFailure) return `terminated: ${cause.message || 'no reason given'}`;
  if (cause instanceof CancelledFailure) return 'cancelled';
  if (cause instanceof TimeoutFailure) return 'timed out';
  return `failed: ${cause?.message ?? err.message}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Follows a pipeline until it closes: progress every second, as bars on a terminal and as one
 * line per change elsewhere. Returns the exit code: 0 when it completed, 1 otherwise.
 */
export async function watchPipeline(client: Client, id: string, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const handle = client.workflow.getHandle(id);
  const phases = (await pipelineInput(client, id)).spec.phases.length;
  let outcome: { result: PipelineResult } | { error: string } | undefined;
  const closed = handle.result().then(
    (result: PipelineResult) => (outcome = { result }),
    (err) => (outcome = { error: closedBecause(err) }),
  );

  const display = new Display(out);
  while (!outcome) {
    // A query waits for a worker; without one, keep the last picture and try again.
    const progress = await client.withDeadline(Date.now() + 5000, () => handle.query(progressQuery)).catch(() => undefined);
    if (progress && !outcome) display.show(out.isTTY ? progressBars(id, progress, phases) : [progressLine(progress, phases)]);
    await Promise.race([closed, sleep(1000)]);
  }

  if ('error' in outcome) {
    console.error(`${id} ${outcome.error}`);
    return 1;
  }
  const { phases: done, stoppedEarly } = outcome.result;
  const last = done.at(-1);
  out.write(`${id} completed: ${done.length}/${phases} phases${stoppedEarly ? ' (stopped early)' : ''}${last ? ` · ${last.name} ${glance(last.metrics)}` : ''}\n`);
  return 0;
}
