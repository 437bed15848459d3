import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { startPipeline } from '../cli/pipelines';
import { validateSpec } from '../cli/spec-file';
import { withWorkers } from '../tests/helpers/workers';

/**
 * The fan-out case of `npm run bench:pipeline`: a rejection-sampling phase over PROMPTS prompts
 * (BENCH_FANOUT_PROMPTS, default 200,000) with a tiny model and one new token, so that the
 * sampling is all orchestration: one rollout and one verification activity per shard of 32
 * prompts. Printed from the histories of the phase and every workflow it started: the peak of
 * activities pending at once in any one workflow (Temporal refuses more than 2,000), the largest
 * history (events and bytes; Temporal terminates a run at 51,200 events or 50 MB), and per shard
 * the wall time, the engine's share of it (one engine per worker process generates, one shard at
 * a time) and the rest: S3, rewards (on threads of their own) and orchestration overhead.
 */
const PROMPTS = Number(process.env.BENCH_FANOUT_PROMPTS ?? 200_000);
const MODEL = { vocabSize: 259, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 32 };

function fanOutSpec() {
  // One byte of answer: a random model says "7" now and then, so that some samples are kept.
  const rows = Array.from({ length: PROMPTS }, (_, i) => ({ prompt: `${i % 10}+${7 - (i % 8)}`, answer: '7' }));
  return validateSpec({
    seed: 5,
    model: { config: MODEL },
    runtime: { chatTemplate: 'plain' },
    datasets: { prompts: { kind: 'inline', rows } },
    phases: [
      {
        kind: 'rejection-sampling',
        dataset: 'prompts',
        samplesPerPrompt: 1,
        sampling: { maxNewTokens: 1, temperature: 1 },
        rewards: [{ name: 'accuracy', weight: 1 }],
        sft: { steps: 1, batchSize: 4, checkpointEvery: 1, optimizer: { lr: 0.001 } },
      },
    ],
  });
}

interface Run {
  workflowId: string;
  events: number;
  bytes: number;
  peakPending: number;
  /** Times (ms) of each activity, and the engine time a rollout activity reported. */
  activities: { type: string; scheduled: number; started: number; closed: number; engineMs: number }[];
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** One workflow run's history: its size, the peak of its pending activities and its activities' times. */
async function readRun(client: Client, workflowId: string, runId: string): Promise<Run> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const open = new Map<number, { type: string; scheduled: number; started: number }>();
  const activities: Run['activities'] = [];
  let peakPending = 0;
  for (const e of history.events ?? []) {
    const id = Number(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      open.set(id, { type: scheduled.activityType?.name ?? '', scheduled: ms(e.eventTime), started: 0 });
      peakPending = Math.max(peakPending, open.size);
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) open.get(Number(started.scheduledEventId))!.started = ms(e.eventTime);
    const completed = e.activityTaskCompletedEventAttributes;
    const closed = completed ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed) {
      const from = Number(closed.scheduledEventId);
      const a = open.get(from)!;
      open.delete(from);
      const result = completed?.result?.payloads?.[0] ? (defaultPayloadConverter.fromPayload(completed.result.payloads[0] as never) as { timings?: Record<string, number> }) : undefined;
      activities.push({ ...a, closed: ms(e.eventTime), engineMs: result?.timings?.rolloutEngineMs ?? 0 });
    }
  }
  return { workflowId, events: description.historyLength, bytes: description.historySize ?? 0, peakPending, activities };
}

export async function fanOutCase(client: Client): Promise<void> {
  const id = `bench-fanout-${Date.now().toString(36)}`;
  console.log(`\nfan-out: rejection sampling over ${PROMPTS.toLocaleString('en')} prompts, 1 sample of 1 new token each (model d=${MODEL.hiddenSize} L=${MODEL.numLayers}) (${id})`);
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, fanOutSpec(), id)).result());

  const runs: Run[] = [];
  for await (const wf of client.workflow.list({ query: `R1Pipeline = '${id}'` })) {
    if (wf.workflowId.startsWith(`${id}/0-`)) runs.push(await readRun(client, wf.workflowId, wf.runId));
  }
  const sampling = runs.flatMap((r) => r.activities).filter((a) => a.type === 'generateRollouts' || a.type === 'verifyRollouts');
  const rollouts = sampling.filter((a) => a.type === 'generateRollouts');
  const shards = rollouts.length;
  const wall = Math.max(...sampling.map((a) => a.closed)) - Math.min(...sampling.map((a) => a.scheduled));
  const engine = rollouts.reduce((n, a) => n + a.engineMs, 0);
  const largest = runs.reduce((a, b) => (b.events > a.events ? b : a));
  const f = (x: number) => x.toFixed(1);
  console.log(`workflows: ${runs.length} (the phase and the runs it started); shards: ${shards}`);
  console.log(`peak pending activities in one workflow: ${Math.max(...runs.map((r) => r.peakPending))} (Temporal's limit: 2,000)`);
  console.log(`largest history: ${largest.events.toLocaleString('en')} events, ${(largest.bytes / 1e6).toFixed(2)} MB (${largest.workflowId}; Temporal's limits: 51,200 events, 50 MB)`);
  console.log(
    `sampling: ${(wall / 1000).toFixed(1)} s; per shard ${f(wall / shards)} ms wall = engine ${f(engine / shards)} ms + S3, rewards and orchestration ${f((wall - engine) / shards)} ms`,
  );
}
