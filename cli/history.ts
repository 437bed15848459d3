import type { Client } from '@temporalio/client';
import { fromPayloadsAtIndex, type Payload, type PayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { ProducerEnvironment } from '../schemas/manifest';
import type { Metrics } from '../schemas/metrics';
import { describeEnvironment } from '../schemas/provenance';
import type { CheckpointRef } from '../schemas/refs';
import type { PipelineInput } from '../workflows/pipeline';
import type { PhaseResult } from '../workflows/phase-input';
import { DATASETS, phaseName, phaseWorkflowId } from '../schemas/layout';

/**
 * The phase audit of a pipeline, read from Temporal workflow histories only: the pipeline's runs
 * (a restart is a new run of the same id, linked by its `restartOf` memo), each phase's child
 * workflow executions with their activities, and the checkpoints the training activities returned.
 * Times are ISO strings so that the audit compares equal however it travels (JSON, a web page).
 */

export type RunStatus = 'running' | 'completed' | 'failed' | 'terminated' | 'cancelled' | 'timed out';

export interface ActivityAudit {
  activity: string;
  summary: string | null;
  status: 'scheduled' | 'completed' | 'failed' | 'timed out' | 'cancelled';
  /** Attempts made when it closed; history records no attempt of a pending activity. */
  attempts: number;
  /** Failure messages, oldest first: the last retried attempt's and the final one's (history keeps no others). */
  failures: string[];
  /** The checkpoint a training activity returned, if any. */
  checkpoint: CheckpointRef | null;
  /** What produced that checkpoint, as the activity returned it from the manifest it wrote (null before environments were recorded). */
  environment: ProducerEnvironment | null;
}

interface RunTimes {
  status: RunStatus;
  startedAt: string;
  closedAt: string | null;
  durationMs: number | null;
  /** Why it failed or was terminated. */
  failure: string | null;
}

/** One execution of a phase's child workflow: its runs chained by continue-as-new, taken as one. */
export interface PhaseExecution extends RunTimes {
  workflowId: string;
  runIds: string[];
  /** The pipeline run that started it. */
  pipelineRunId: string;
  activities: ActivityAudit[];
  /** Checkpoints first returned in this execution (a resumed phase hands back earlier ones too), by step. */
  checkpoints: CheckpointRef[];
  result: PhaseResult | null;
}

export interface PhaseAudit {
  index: number;
  name: string;
  kind: string;
  /** As the latest pipeline run has it: its own execution's status, or `reused` from an earlier run. */
  status: RunStatus | 'reused' | 'not started';
  executions: PhaseExecution[];
  checkpoint: CheckpointRef | null;
  metrics: Metrics | null;
  /** The phase's checkpoints grouped by what produced them (null: not recorded). */
  producers: { environment: ProducerEnvironment | null; steps: number[] }[];
}

export interface PipelineRunAudit extends RunTimes {
  runId: string;
  /** Phases this run took from an earlier one instead of running them. */
  reused: string[];
}

export interface PipelineAudit {
  pipelineId: string;
  /** Oldest first. */
  runs: PipelineRunAudit[];
  phases: PhaseAudit[];
}

type HistoryEvent = NonNullable<History['events']>[number];
type Timestamp = HistoryEvent['eventTime'];
interface ProtoFailure {
  message?: string | null;
  cause?: ProtoFailure | null;
}

function isoTime(ts: Timestamp): string {
  return new Date(Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6)).toISOString();
}

/** `outer: inner: root`, the way a failure reads from the top to its root cause. */
function failureMessage(failure: ProtoFailure | null | undefined): string {
  const messages: string[] = [];
  for (let f = failure; f; f = f.cause) if (f.message) messages.push(f.message);
  return messages.join(': ');
}

/** Reads histories and decodes their payloads with the client's converter. */
class HistoryReader {
  private readonly converter: PayloadConverter;

  constructor(private readonly client: Client) {
    this.converter = client.options.loadedDataConverter.payloadConverter;
  }

  async events(workflowId: string, runId?: string): Promise<HistoryEvent[]> {
    return (await this.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  }

  value<T>(payloads: Payload[] | null | undefined): T | null {
    return payloads?.length ? fromPayloadsAtIndex<T>(this.converter, 0, payloads) : null;
  }

  /** How a run went, from its first and last events. */
  times(events: HistoryEvent[]): RunTimes {
    const first = events[0];
    const last = events[events.length - 1];
    const startedAt = isoTime(first.eventTime);
    const closed = (status: RunStatus, failure: string | null = null): RunTimes => {
      const closedAt = isoTime(last.eventTime);
      return { status, startedAt, closedAt, durationMs: Date.parse(closedAt) - Date.parse(startedAt), failure };
    };
    if (last.workflowExecutionCompletedEventAttributes || last.workflowExecutionContinuedAsNewEventAttributes) return closed('completed');
    if (last.workflowExecutionFailedEventAttributes) return closed('failed', failureMessage(last.workflowExecutionFailedEventAttributes.failure));
    if (last.workflowExecutionTerminatedEventAttributes) return closed('terminated', last.workflowExecutionTerminatedEventAttributes.reason || 'terminated');
    if (last.workflowExecutionCanceledEventAttributes) return closed('cancelled');
    if (last.workflowExecutionTimedOutEventAttributes) return closed('timed out');
    return { status: 'running', startedAt, closedAt: null, durationMs: null, failure: null };
  }

  /** Every activity a run scheduled, in order, with how its attempts went. */
  activities(events: HistoryEvent[]): ActivityAudit[] {
    const byScheduledId = new Map<string, ActivityAudit>();
    for (const e of events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) {
        byScheduledId.set(String(e.eventId), {
          activity: scheduled.activityType?.name ?? '?',
          summary: this.value<string>(e.userMetadata?.summary ? [e.userMetadata.summary] : null),
          status: 'scheduled',
          attempts: 0,
          failures: [],
          checkpoint: null,
          environment: null,
        });
        continue;
      }
      const started = e.activityTaskStartedEventAttributes;
      const completed = e.activityTaskCompletedEventAttributes;
      const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      const cancelled = e.activityTaskCanceledEventAttributes;
      const activity = byScheduledId.get(String((started ?? completed ?? failed ?? cancelled)?.scheduledEventId));
      if (!activity) continue;
      if (started) {
        activity.attempts = started.attempt ?? 1;
        if (started.lastFailure) activity.failures.push(failureMessage(started.lastFailure));
      } else if (completed) {
        activity.status = 'completed';
        const result = this.value<{ checkpoint?: CheckpointRef | null; environment?: ProducerEnvironment | null }>(completed.result?.payloads);
        activity.checkpoint = result?.checkpoint?.uri ? result.checkpoint : null;
        activity.environment = (activity.checkpoint && result?.environment) ?? null;
      } else if (failed) {
        activity.status = e.activityTaskFailedEventAttributes ? 'failed' : 'timed out';
        activity.failures.push(failureMessage(failed.failure));
      } else {
        activity.status = 'cancelled';
      }
    }
    return [...byScheduledId.values()];
  }

  /** A phase's child workflow from the run its pipeline started, following continue-as-new. */
  async phaseExecution(workflowId: string, firstRunId: string, pipelineRunId: string): Promise<PhaseExecution> {
    const continuedAs = (events: HistoryEvent[]) => events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    const runIds = [firstRunId];
    let events = await this.events(workflowId, firstRunId);
    const { startedAt } = this.times(events);
    const activities = this.activities(events);
    for (let next = continuedAs(events); next; next = continuedAs(events)) {
      events = await this.events(workflowId, next);
      runIds.push(next);
      activities.push(...this.activities(events));
    }
    const times = this.times(events);
    const result = times.status === 'completed' ? this.value<PhaseResult>(events[events.length - 1].workflowExecutionCompletedEventAttributes?.result?.payloads) : null;
    const durationMs = times.closedAt ? Date.parse(times.closedAt) - Date.parse(startedAt) : null;
    return { ...times, startedAt, durationMs, workflowId, runIds, pipelineRunId, activities, checkpoints: [], result };
  }
}

/** The runs of a pipeline, oldest first, following the `restartOf` links back from the latest. */
async function pipelineRuns(reader: HistoryReader, pipelineId: string) {
  const runs: { runId: string; events: HistoryEvent[]; input: PipelineInput }[] = [];
  for (let runId: string | undefined; ; ) {
    const events = await reader.events(pipelineId, runId);
    const started = events[0].workflowExecutionStartedEventAttributes!;
    runs.unshift({ runId: started.originalExecutionRunId!, events, input: reader.value<PipelineInput>(started.input?.payloads)! });
    const restartOf = started.memo?.fields?.restartOf;
    if (!restartOf) return runs;
    runId = reader.value<string>([restartOf])!;
  }
}

/** Reads the audit of a pipeline and every run and phase execution it has had. */
export async function readPipelineAudit(client: Client, pipelineId: string): Promise<PipelineAudit> {
  const reader = new HistoryReader(client);
  const runs = await pipelineRuns(reader, pipelineId);
  const latest = runs[runs.length - 1];
  const executions: PhaseExecution[] = [];
  for (const run of runs) {
    for (const e of run.events) {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId && child.workflowId !== phaseWorkflowId(pipelineId, DATASETS)) {
        executions.push(await reader.phaseExecution(child.workflowId, child.runId, run.runId));
      }
    }
  }

  const phases = latest.input.spec.phases.map((phase, index): PhaseAudit => {
    const name = phaseName(index, phase.kind);
    const mine = executions.filter((x) => x.workflowId === phaseWorkflowId(pipelineId, name));
    const seen = new Set<string>();
    const producers = new Map<string, PhaseAudit['producers'][number]>();
    for (const x of mine) {
      for (const a of x.activities) {
        if (a.checkpoint && !seen.has(a.checkpoint.uri)) {
          seen.add(a.checkpoint.uri);
          x.checkpoints.push(a.checkpoint);
          const key = JSON.stringify(a.environment);
          if (!producers.has(key)) producers.set(key, { environment: a.environment, steps: [] });
          producers.get(key)!.steps.push(a.checkpoint.step);
        }
      }
      x.checkpoints.sort((a, b) => a.step - b.step);
    }
    const ranInLatest = mine.filter((x) => x.pipelineRunId === latest.runId).at(-1);
    const reused = latest.input.completed?.find((r) => r.name === name);
    const final = ranInLatest?.result ?? reused ?? null;
    return {
      index,
      name,
      kind: phase.kind,
      status: ranInLatest?.status ?? (reused ? 'reused' : 'not started'),
      executions: mine,
      checkpoint: final?.checkpoint ?? null,
      metrics: final?.metrics ?? null,
      producers: [...producers.values()],
    };
  });

  return {
    pipelineId,
    runs: runs.map((run) => ({ runId: run.runId, ...reader.times(run.events), reused: (run.input.completed ?? []).map((r) => r.name) })),
    phases,
  };
}

function seconds(ms: number | null): string {
  return ms === null ? 'running' : `${(ms / 1000).toFixed(1)}s`;
}

function span(x: RunTimes): string {
  return `${x.startedAt} -> ${x.closedAt ?? '…'} (${seconds(x.durationMs)})`;
}

function metricsText(metrics: Metrics): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
}

/** The audit as text for a terminal: runs, then each phase with its executions. */
export function formatPipelineAudit(audit: PipelineAudit): string {
  const lines: string[] = [`pipeline ${audit.pipelineId}: ${audit.runs.length} run${audit.runs.length === 1 ? '' : 's'}`];
  for (const [i, run] of audit.runs.entries()) {
    const reused = run.reused.length ? `  reused ${run.reused.join(', ')}` : '';
    lines.push(`  run ${i + 1} ${run.runId}  ${run.status}  ${span(run)}${reused}${run.failure ? `\n    ${run.failure}` : ''}`);
  }
  for (const phase of audit.phases) {
    lines.push('', `${phase.name}  ${phase.status}`);
    for (const x of phase.executions) {
      const run = audit.runs.findIndex((r) => r.runId === x.pipelineRunId) + 1;
      const retried = x.activities.filter((a) => a.attempts > 1).length;
      const failed = x.activities.filter((a) => a.status === 'failed' || a.status === 'timed out').length;
      lines.push(`  run ${run}: ${x.status}  ${span(x)}  ${x.activities.length} activities, ${retried} retried, ${failed} failed`);
      if (x.failure) lines.push(`    failure: ${x.failure}`);
      for (const a of x.activities.filter((a) => a.failures.length > 0)) {
        lines.push(`    ${a.activity} (${a.summary ?? 'no summary'}): ${a.status} after ${a.attempts} attempt${a.attempts === 1 ? '' : 's'}`);
        for (const message of a.failures) lines.push(`      ! ${message}`);
      }
      if (x.status !== 'running') {
        for (const a of x.activities.filter((a) => a.status === 'scheduled')) lines.push(`    ${a.activity} (${a.summary ?? 'no summary'}): never finished`);
      }
      for (const c of x.checkpoints) lines.push(`    checkpoint step ${c.step}  ${c.uri}`);
    }
    if (phase.checkpoint) lines.push(`  final checkpoint step ${phase.checkpoint.step}  ${phase.checkpoint.uri}`);
    if (phase.metrics) lines.push(`  metrics ${metricsText(phase.metrics)}`);
    for (const { environment, steps } of phase.producers) {
      lines.push(`  made by ${environment ? describeEnvironment(environment) : '(not recorded)'}  (checkpoints at steps ${steps.join(', ')})`);
      for (const warning of environment?.warnings ?? []) lines.push(`  ! not bit-reproducible: ${warning}`);
    }
  }
  return lines.join('\n');
}
