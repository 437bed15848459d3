import type { Client } from '@temporalio/client';
import type { Metrics } from '../schemas/metrics';
import { describeMachine } from '../schemas/provenance';
import type { ArtifactStore } from '../storage/artifact-store';
import { readManifest } from '../storage/checkpoints';
import type { PhaseResult } from '../workflows/phase-input';
import type { PipelineResult } from '../workflows/pipeline';

/** One line of the results table: a phase's held-out evaluation and its wall time. */
export interface PhaseRow {
  run: string;
  phase: string;
  /** Held-out metrics (pass1, majK, formatRate, meanLength); absent for phases that do not evaluate. */
  heldout?: Metrics;
  wallSeconds?: number;
}

/** The held-out evaluations a phase made, by row label. */
function evaluations(phase: PhaseResult): [string, Metrics | undefined][] {
  if (phase.kind === 'eval') return [[phase.name, phase.metrics]];
  if (phase.kind === 'distill') return [[`${phase.name} teacher`, phase.evals.teacher], [`${phase.name} student`, phase.evals.student]];
  return [[phase.name, phase.evals.final]];
}

/** Milliseconds of a protobuf timestamp (its seconds may be a Long). */
function msOf(ts: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined): number {
  return Number(ts?.seconds?.toString() ?? 0) * 1000 + (ts?.nanos ?? 0) / 1e6;
}

/**
 * Wall time of each phase from the pipeline's own history: child started -> child closed. The
 * parent never continues as new, so its one history covers every phase (a phase's own runs may).
 */
export async function phaseWallSeconds(client: Client, pipelineId: string): Promise<Map<string, number>> {
  const history = await client.workflow.getHandle(pipelineId).fetchHistory();
  const started = new Map<string, number>();
  const wall = new Map<string, number>();
  for (const event of history.events ?? []) {
    const at = msOf(event.eventTime);
    const init = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (init?.workflowId) started.set(init.workflowId, at);
    const closed =
      event.childWorkflowExecutionCompletedEventAttributes ??
      event.childWorkflowExecutionFailedEventAttributes ??
      event.childWorkflowExecutionTerminatedEventAttributes;
    const id = closed?.workflowExecution?.workflowId;
    if (id && started.has(id)) wall.set(id.slice(pipelineId.length + 1), (at - started.get(id)!) / 1000);
  }
  return wall;
}

export async function phaseRows(client: Client, run: string, pipelineId: string, result: PipelineResult): Promise<PhaseRow[]> {
  const wall = await phaseWallSeconds(client, pipelineId);
  return result.phases.flatMap((phase) =>
    evaluations(phase).map(([label, heldout], i) => ({ run, phase: label, heldout, wallSeconds: i === 0 ? wall.get(phase.name) : undefined })),
  );
}

export const TABLE_COLUMNS: { title: string; width: number; cell: (row: PhaseRow) => string }[] = [
  { title: 'run', width: 8, cell: (r) => r.run },
  { title: 'phase', width: 26, cell: (r) => r.phase },
  { title: 'pass@1', width: 7, cell: (r) => percent(r.heldout?.pass1) },
  { title: 'maj@k', width: 7, cell: (r) => percent(r.heldout?.majK) },
  { title: 'format', width: 7, cell: (r) => percent(r.heldout?.formatRate) },
  { title: 'len', width: 6, cell: (r) => (r.heldout?.meanLength === undefined ? '-' : r.heldout.meanLength.toFixed(0)) },
  { title: 'wall', width: 7, cell: (r) => (r.wallSeconds === undefined ? '' : `${r.wallSeconds.toFixed(0)}s`) },
];

function percent(x: number | undefined): string {
  return x === undefined ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** The table as fixed-width text; `len` is the mean response length in tokens. */
export function renderTable(rows: PhaseRow[]): string {
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(TABLE_COLUMNS[i].width) : c.padStart(TABLE_COLUMNS[i].width))).join('  ');
  return [line(TABLE_COLUMNS.map((c) => c.title)), ...rows.map((row) => line(TABLE_COLUMNS.map((c) => c.cell(row))))].join('\n');
}

/**
 * The lines under a results table: the machine and engine build that produced its checkpoints
 * (from their manifests; one line per machine when several did), then every reason the runs
 * cannot be repeated bit for bit.
 */
export async function producedOnLines(store: ArtifactStore, results: PipelineResult[]): Promise<string[]> {
  const machines = new Set<string>();
  const warnings = new Set<string>();
  for (const phase of results.flatMap((r) => r.phases)) {
    const { environment } = await readManifest(store, phase.checkpoint);
    if (environment?.engine) machines.add(describeMachine(environment.engine));
    for (const warning of environment?.warnings ?? []) warnings.add(warning);
  }
  return [...[...machines].map((m) => `produced on ${m}`), ...[...warnings].map((w) => `not bit-reproducible: ${w}`)];
}
