import { extractAnswer } from '../rewards/extract';
import { scoreBatch } from '../rewards/compose';
import { majorityVote } from '../rewards/majority';
import type { Metrics } from '../schemas/metrics';
import { correctnessOf, type RewardSpec, type SampleScore } from '../schemas/rewards';
import { referenceOf, scoreSampleOf, type EvaluateRequest, type Rollout, type RolloutRequest, type RolloutResult, type ScoredShard, type VerifyRequest } from '../schemas/rollouts';
import { keys } from '../schemas/layout';
import type { ArtifactStore } from '../storage/artifact-store';
import { loadDataset } from './datasets';
import { batchIndices, promptTokens, textCodecOf } from './examples';
import type { PolicyPool } from './policy-pool';
import { Timings } from './timings';
import { throwIfCancelled, withHeartbeats } from './heartbeat';
import { BadDataError } from './errors';
import { encodeJsonl } from './jsonl';
import type { RecentShards } from './recent-shards';

/** The R1 format ends with the answer block; nothing after it earns anything. */
const STOP = ['</answer>'];

/** The dataset rows a request samples: its step's share of prompts, or its range. */
export function requestRows(rows: number, input: Pick<RolloutRequest, 'prompts' | 'runtime' | 'step' | 'shard' | 'shards'>): number[] {
  const p = input.prompts;
  if ('from' in p) return Array.from({ length: Math.max(0, Math.min(p.to, rows) - p.from) }, (_, i) => p.from + i);
  const all = batchIndices(rows, p.perStep, input.runtime.seed, input.step);
  const per = Math.ceil(all.length / input.shards);
  return all.slice(input.shard * per, (input.shard + 1) * per);
}

/** What sampling needs of a request: which policy, data, sampling and runtime, and the seed's stream. */
type SampleRequest = Pick<RolloutRequest, 'policy' | 'dataset' | 'samplesPerPrompt' | 'sampling' | 'runtime' | 'step' | 'shard'>;

async function sample(pool: PolicyPool, store: ArtifactStore, input: SampleRequest, rowsToUse: number[], t = new Timings()): Promise<Rollout[]> {
  const rows = await t.time('s3', () => loadDataset(store, input.dataset));
  const codec = textCodecOf(await t.time('s3', () => pool.assetsOf(input.policy)), input.runtime);
  const prompts: Int32Array[] = [];
  const meta: { row: number; sample: number }[] = [];
  for (const row of rowsToUse) {
    const prompt = rows[row].prompt;
    if (prompt === undefined) throw new BadDataError(`${input.dataset.uri} row ${row + 1}: no "prompt" to sample from`);
    const ids = promptTokens(codec, prompt);
    for (let s = 0; s < input.samplesPerPrompt; s++) {
      prompts.push(ids);
      meta.push({ row, sample: s });
    }
  }
  if (prompts.length === 0) return [];
  // Rollouts of a step are a function of (seed, step, shard): a replayed step samples the same.
  const seed = (input.runtime.seed * 1_000_003 + input.step * 1009 + input.shard) % 2 ** 31;
  const generations = await pool.use(
    input.policy,
    input.runtime,
    (engine) => t.time('engine', () => engine.generate(prompts, { ...input.sampling, stopStrings: STOP, seed })),
    t,
  );
  return generations.map((g, i) => ({
    ...meta[i],
    reference: referenceOf(rows[meta[i].row]),
    promptTokens: Array.from(prompts[i]),
    tokens: Array.from(g.tokens),
    logprobs: Array.from(g.logprobs),
    text: g.text,
    finishReason: g.finishReason,
  }));
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** pass@1 (mean correctness), maj@k (the majority answer per prompt, by equivalence), format rate and mean length. */
export function evalMetrics(rollouts: readonly Rollout[], scores: readonly SampleScore[]): Metrics {
  const byRow = new Map<number, { answer: string | null; correct: number }[]>();
  rollouts.forEach((r, i) => {
    const list = byRow.get(r.row) ?? [];
    list.push({ answer: extractAnswer(r.text).answer, correct: correctnessOf(scores[i]) });
    byRow.set(r.row, list);
  });
  let majCorrect = 0;
  for (const samples of byRow.values()) {
    const winner = majorityVote(samples.map((s) => s.answer));
    majCorrect += winner >= 0 ? samples[winner].correct : 0;
  }
  return {
    pass1: mean(scores.map(correctnessOf)),
    majK: byRow.size ? majCorrect / byRow.size : 0,
    formatRate: mean(scores.map((s) => s.breakdown.format?.value ?? 0)),
    meanLength: mean(rollouts.map((r) => r.tokens.length)),
    reward: mean(scores.map((s) => s.reward)),
    samples: rollouts.length,
  };
}

/** Scores rollouts with the spec's rewards (a failing reward scores 0 with its reason) and stores the scores under `key`. */
async function scoreAndStore(
  store: ArtifactStore,
  rollouts: readonly Rollout[],
  rewards: RewardSpec,
  key: string,
  t: Timings,
  recent?: RecentShards,
): Promise<ScoredShard> {
  const scores = await t.time('rewards', () => scoreBatch(rollouts.map(scoreSampleOf), rewards));
  const { ref } = await t.time('s3', () => store.putBytes(key, encodeJsonl(scores)));
  recent?.remember(ref, scores);
  return { ref, metrics: evalMetrics(rollouts, scores) };
}

/**
 * Samples one shard of a step's prompts and stores its rollouts (and, when the input asks, their
 * scores) next to each other; both stay in `recent` for a trainer in this process.
 */
export async function generateShard(store: ArtifactStore, pool: PolicyPool, recent: RecentShards, input: RolloutRequest, t: Timings): Promise<RolloutResult> {
  const rows = (await t.time('s3', () => loadDataset(store, input.dataset))).length;
  const rollouts = await sample(pool, store, input, requestRows(rows, input), t);
  const key = keys.rollouts(input.pipelineId, input.phase, input.step, input.shard);
  const { ref } = await t.time('s3', () => store.putBytes(store.key(key), encodeJsonl(rollouts)));
  recent.remember(ref, rollouts);
  const rewardsKey = keys.rewardsOfShard(input.pipelineId, input.phase, input.step, input.shard);
  const scored = input.rewards && (await scoreAndStore(store, rollouts, input.rewards, store.key(rewardsKey), t, recent));
  return { ref, samples: rollouts.length, meanLength: mean(rollouts.map((r) => r.tokens.length)), ...(scored && { scored }), timings: t.metrics('rollout') };
}

export function rolloutActivities(store: ArtifactStore, pool: PolicyPool, recent: RecentShards) {
  return {
    /** Samples completions for one shard of a step's prompts and stores them (and, when asked, their scores); returns the refs. */
    generateRollouts: (input: RolloutRequest): Promise<RolloutResult> => withHeartbeats(async (progress) => {
      progress({ step: input.step, shard: input.shard });
      return generateShard(store, pool, recent, input, new Timings());
    }),

    /** Scores every rollout of a step with the spec's rewards; a failing reward scores 0 with its reason. */
    verifyRollouts: (input: VerifyRequest): Promise<ScoredShard & { timings: Metrics }> => withHeartbeats(async (progress) => {
      const t = new Timings();
      const rollouts: Rollout[] = [];
      for (const ref of input.rollouts) rollouts.push(...(await recent.read<Rollout>(store, ref, t)));
      progress({ step: input.step, samples: rollouts.length });
      const key = store.key(keys.rewardsOfStep(input.pipelineId, input.phase, input.step));
      return { ...(await scoreAndStore(store, rollouts, input.rewards, key, t, recent)), timings: t.metrics('verify') };
    }),

    /** Held-out evaluation of a policy: k samples per prompt over the whole dataset. */
    evaluate: (input: EvaluateRequest): Promise<Metrics> => withHeartbeats(async (progress) => {
      const rows = (await loadDataset(store, input.dataset)).length;
      const rollouts: Rollout[] = [];
      const chunk = 32; // prompts per generation batch, so that heartbeats keep flowing
      for (let start = 0; start < rows; start += chunk) {
        throwIfCancelled();
        progress({ evaluated: start, of: rows });
        const indices = Array.from({ length: Math.min(chunk, rows - start) }, (_, i) => start + i);
        rollouts.push(...(await sample(pool, store, { ...input, samplesPerPrompt: input.samples, step: 0, shard: start }, indices)));
      }
      return evalMetrics(rollouts, await scoreBatch(rollouts.map(scoreSampleOf), input.rewards));
    }),
  };
}
