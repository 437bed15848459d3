import { defaultPayloadConverter } from '@temporalio/common';
import { stackUp } from '../infra/local/stack';
import { testClient, withWorkers } from '../tests/helpers/workers';
import { startPipeline } from '../cli/pipelines';
import { validateSpec } from '../cli/spec-file';
import { fanOutCase } from './fan-out';

/**
 * `npm run bench:pipeline`: where the wall time of a GRPO step goes. A GRPO phase of the demo's
 * size (its model, 16 prompts x 8 samples) runs on the embedded stack with in-process workers;
 * its history gives each step's wall time (previous training step completed -> this one
 * completed; step 1 from its first rollout scheduled) and each activity's run time, and the
 * activities report their engine, S3 and reward time.
 * What is left is overhead, split into work inside the activities that is none of those
 * (decoding, batching, hashing) and the time between activities (Temporal scheduling, workflow
 * tasks, payloads). Goal: overhead under 5% of a step of one second or more. Two runs: rollouts
 * in an activity of their own (any rollout worker), and colocated in the training activity.
 * Then the fan-out case (fan-out.ts). BENCH_CASES=grpo or =fanout runs one of them.
 */

// The GRPO phase of the demo (examples/demo-full.yaml): its model, prompts, group size and length.
const MODEL = { vocabSize: 259, hiddenSize: 64, intermediateSize: 192, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 160 };
const PROMPTS = 16;
const GROUP = 8;
const NEW_TOKENS = 128;
const STEPS = Number(process.env.BENCH_STEPS ?? 6);
/** Where rollouts are scored (the spec's `verifyOn`): BENCH_VERIFY_ON=cpu adds the verification activity of the CPU queue. */
const VERIFY_ON = process.env.BENCH_VERIFY_ON === 'cpu' ? 'cpu' : 'rollout';

const spec = validateSpec({
  seed: 3,
  model: { config: MODEL },
  runtime: { chatTemplate: 'plain' },
  datasets: {
    qa: {
      kind: 'inline',
      rows: Array.from({ length: 32 }, (_, i) => ({ prompt: `${i}+${i + 1}`, answer: String(2 * i + 1), completion: `<think>${i}+${i + 1}=${2 * i + 1}</think><answer>${2 * i + 1}</answer>` })),
    },
  },
  phases: [
    { kind: 'sft', dataset: 'qa', steps: 10, batchSize: 8, checkpointEvery: 10, optimizer: { lr: 0.003 } },
    {
      kind: 'grpo',
      dataset: 'qa',
      steps: STEPS,
      promptsPerStep: PROMPTS,
      shards: 1,
      sampling: { maxNewTokens: NEW_TOKENS },
      grpo: { groupSize: GROUP, beta: 0.02 },
      optimizer: { lr: 0.0003 },
      checkpointEvery: 3,
      rewards: [{ name: 'accuracy', weight: 1 }, { name: 'format', weight: 0.5 }],
      verifyOn: VERIFY_ON,
    },
  ],
});

interface StepTimes {
  startMs: number;
  endMs: number;
  /** Time the step's activities ran (started -> completed), summed. */
  activityMs: number;
  metrics: Record<string, number>;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
const decode = (payloads: { payloads?: unknown[] | null } | null | undefined) =>
  defaultPayloadConverter.fromPayload((payloads?.payloads ?? [])[0] as never) as Record<string, unknown>;

/** A GRPO phase's steps from its history: wall time, activity time and the activities' own timings. */
async function stepTimes(client: Awaited<ReturnType<typeof testClient>>, workflowId: string): Promise<Map<number, StepTimes>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<number, { type: string; step: number }>();
  const started = new Map<number, number>();
  const steps = new Map<number, StepTimes>();
  const add = (into: Record<string, number>, timings: unknown) => {
    for (const [k, v] of Object.entries((timings ?? {}) as Record<string, number>)) into[k] = (into[k] ?? 0) + v;
  };
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s && ['generateRollouts', 'verifyRollouts', 'trainGrpoStep'].includes(s.activityType?.name ?? '')) {
      const input = decode(s.input);
      const step = s.activityType?.name === 'trainGrpoStep' ? (input.pending as { step: number }[]).at(-1)!.step : (input.step as number);
      scheduled.set(Number(e.eventId), { type: s.activityType!.name!, step });
      if (!steps.has(step)) steps.set(step, { startMs: ms(e.eventTime), endMs: 0, activityMs: 0, metrics: {} });
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) started.set(Number(st.scheduledEventId), ms(e.eventTime));
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const origin = scheduled.get(Number(c.scheduledEventId));
      if (!origin) continue;
      const result = decode(c.result);
      const times = steps.get(origin.step)!;
      times.activityMs += ms(e.eventTime) - started.get(Number(c.scheduledEventId))!;
      add(times.metrics, result.timings);
      if (origin.type === 'trainGrpoStep') {
        // Colocated: the next step's rollouts ran inside this activity, in this step's window.
        add(times.metrics, (result.next as { timings?: unknown } | undefined)?.timings);
        add(times.metrics, Object.fromEntries(Object.entries(result.metrics as Record<string, number>).filter(([k]) => k.startsWith('train'))));
        times.endMs = ms(e.eventTime);
      }
    }
  }
  return steps;
}

/** Prints one mode's steps and their means. */
function report(mode: string, steps: Map<number, StepTimes>, colocated: boolean): void {
  console.log(`\n${mode}`);
  console.log('step   wall ms   engine ms   s3 ms   rewards ms   in-activity ms   between ms   overhead %');
  const f = (x: number, w: number) => x.toFixed(0).padStart(w);
  const sum = { wall: 0, engine: 0, s3: 0, rewards: 0, inActivity: 0, between: 0 };
  // Step 1 also builds the engines' sessions, and a colocated run's last step samples no next
  // rollouts: shown, but left out of the means.
  const last = steps.size;
  const counted = [...steps.keys()].filter((step) => step > 1 && !(colocated && step === last));
  for (const [step, t] of [...steps.entries()].sort((a, b) => a[0] - b[0])) {
    const m = t.metrics;
    // From the previous step's end: the workflow task that starts a step is part of its cost.
    const wall = t.endMs - (steps.get(step - 1)?.endMs ?? t.startMs);
    const engine = (m.rolloutEngineMs ?? 0) + (m.trainEngineMs ?? 0);
    const s3 = (m.rolloutS3Ms ?? 0) + (m.verifyS3Ms ?? 0) + (m.trainS3Ms ?? 0);
    const rewards = (m.verifyRewardsMs ?? 0) + (m.rolloutRewardsMs ?? 0);
    const inActivity = t.activityMs - engine - s3 - rewards;
    const between = wall - t.activityMs;
    console.log(
      `${String(step).padStart(4)} ${f(wall, 9)} ${f(engine, 11)} ${f(s3, 7)} ${f(rewards, 12)} ${f(inActivity, 16)} ${f(between, 12)} ${(((inActivity + between) * 100) / wall).toFixed(1).padStart(12)}`,
    );
    if (!counted.includes(step)) continue;
    Object.assign(sum, {
      wall: sum.wall + wall, engine: sum.engine + engine, s3: sum.s3 + s3, rewards: sum.rewards + rewards,
      inActivity: sum.inActivity + inActivity, between: sum.between + between,
    });
  }
  const n = counted.length;
  const pct = (x: number) => `${((100 * x) / sum.wall).toFixed(1)}%`;
  console.log(
    `steps 2-${counted.at(-1)}: mean step ${(sum.wall / n).toFixed(0)} ms = engine ${pct(sum.engine)}, S3 ${pct(sum.s3)}, rewards ${pct(sum.rewards)}, ` +
      `overhead ${pct(sum.inActivity + sum.between)} (${((sum.inActivity + sum.between) / n).toFixed(0)} ms: in activities ${pct(sum.inActivity)}, ` +
      `between activities ${pct(sum.between)}); goal: overhead < 5%`,
  );
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  await stackUp();
  const client = await testClient();
  const cases = (process.env.BENCH_CASES ?? 'grpo,fanout').split(',');
  if (cases.includes('grpo')) await grpoCase(client);
  if (cases.includes('fanout')) await fanOutCase(client);
}

async function grpoCase(client: Awaited<ReturnType<typeof testClient>>): Promise<void> {
  const modes = [
    { name: `rollouts in their own activity, scored ${VERIFY_ON === 'cpu' ? 'in a CPU-queue activity' : 'in place'}`, colocate: false },
    ...(VERIFY_ON === 'cpu' ? [] : [{ name: 'colocated rollouts (colocate: true): the trainer samples the next step in the training activity', colocate: true }]),
  ];
  console.log(`GRPO steps: model d=${MODEL.hiddenSize} L=${MODEL.numLayers}, ${PROMPTS} prompts x ${GROUP} samples, ${NEW_TOKENS} new tokens, 1 rollout shard`);
  for (const mode of modes) {
    const id = `bench-pipeline-${Date.now().toString(36)}`;
    const modeSpec = { ...spec, phases: spec.phases.map((p) => (p.kind === 'grpo' ? { ...p, colocate: mode.colocate } : p)) };
    await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, modeSpec, id)).result());
    report(`${mode.name} (${id})`, await stepTimes(client, `${id}/1-grpo`), mode.colocate);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
