import { extractAnswer } from '../rewards/extract';
import { scoreBatch } from '../rewards/compose';
import type { Device } from '../schemas/device';
import type { Metrics } from '../schemas/metrics';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef, ArtifactRef } from '../schemas/refs';
import type { RewardSpec, SampleScore } from '../schemas/rewards';
import type { ArtifactStore } from '../storage/artifact-store';
import { stepName } from '../storage/checkpoints';
import type { DatasetRef } from './build-dataset';
import { loadDataset } from './datasets';
import { batchIndices, promptTokens, tokenizerFor } from './examples';
import type { PolicyPool } from './policy-pool';
import { Timings } from './timings';
import { throwIfCancelled, withHeartbeats } from './heartbeat';
import { encodeJsonl } from './jsonl';
import type { RecentShards } from './recent-shards';

/** One sampled completion, as stored in rollouts/<phase>/step-N/shard-k.jsonl. */
export interface Rollout {
  row: number;
  sample: number;
  gold?: string;
  promptTokens: number[];
  tokens: number[];
  /** Behaviour log-probs, one per completion token. */
  logprobs: number[];
  text: string;
  finishReason: 'eos' | 'stop' | 'length';
}

export interface Sampling {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
}

export interface GenerateInput {
  pipelineId: string;
  phase: string;
  step: number;
  shard: number;
  shards: number;
  policy: CheckpointRef;
  dataset: DatasetRef;
  /** Prompts of this step: `promptsPerStep` rows chosen by (seed, step), split over the shards... */
  promptsPerStep: number;
  /** ...or, when set, the dataset rows [from, to) (rejection sampling and distillation walk the whole set). */
  range?: { from: number; to: number };
  samplesPerPrompt: number;
  sampling: Sampling;
  seed: number;
  chatTemplate: PipelineSpec['chatTemplate'];
  tokenizer: PipelineSpec['tokenizer'];
  device: Device;
  /** When set, the shard is also scored here (GRPO's `verifyOn: rollout`). */
  rewards?: RewardSpec;
}

export interface GenerateResult {
  ref: ArtifactRef;
  samples: number;
  meanLength: number;
  /** The shard's scores and their metrics, when the input asked for them. */
  scored?: { ref: ArtifactRef; metrics: Metrics };
  timings: Metrics;
}

/** The R1 format ends with the answer block; nothing after it earns anything. */
const STOP = ['</answer>'];

/** Rows of shard `shard` of `shards` among this step's prompts; whole groups stay together. */
export function shardRows(rows: number, input: Pick<GenerateInput, 'promptsPerStep' | 'seed' | 'step' | 'shard' | 'shards'>): number[] {
  const all = batchIndices(rows, input.promptsPerStep, input.seed, input.step);
  const per = Math.ceil(all.length / input.shards);
  return all.slice(input.shard * per, (input.shard + 1) * per);
}

async function sample(pool: PolicyPool, store: ArtifactStore, input: Omit<GenerateInput, 'pipelineId' | 'phase'>, rowsToUse: number[], t = new Timings()): Promise<Rollout[]> {
  const rows = await t.time('s3', () => loadDataset(store, input.dataset));
  const tok = tokenizerFor(input.tokenizer);
  const prompts: Int32Array[] = [];
  const meta: { row: number; sample: number }[] = [];
  for (const row of rowsToUse) {
    const prompt = rows[row].prompt;
    if (prompt === undefined) throw new Error(`${input.dataset.uri} row ${row + 1}: no "prompt" to sample from`);
    const ids = promptTokens(tok, input.chatTemplate, prompt);
    for (let s = 0; s < input.samplesPerPrompt; s++) {
      prompts.push(ids);
      meta.push({ row, sample: s });
    }
  }
  if (prompts.length === 0) return [];
  const generations = await pool.use(
    input.policy,
    input,
    (engine) =>
      t.time('engine', () => engine.generate(prompts, {
      maxNewTokens: input.sampling.maxNewTokens,
      temperature: input.sampling.temperature,
      topP: input.sampling.topP,
      topK: input.sampling.topK,
      stopStrings: STOP,
      // Rollouts of a step are a function of (seed, step, shard): a replayed step samples the same.
      seed: (input.seed * 1_000_003 + input.step * 1009 + input.shard) % 2 ** 31,
    })),
    t,
  );
  return generations.map((g, i) => ({
    ...meta[i],
    gold: rows[meta[i].row].answer,
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

/** pass@1 (mean accuracy), maj@k (majority answer per prompt), format rate and mean length. */
export function evalMetrics(rollouts: Rollout[], scores: SampleScore[]): Metrics {
  const byRow = new Map<number, { answer: string | null; correct: number }[]>();
  rollouts.forEach((r, i) => {
    const extracted = extractAnswer(r.text);
    const list = byRow.get(r.row) ?? [];
    list.push({ answer: extracted.answer?.replace(/\s+/g, '') ?? null, correct: scores[i].breakdown.accuracy?.value ?? 0 });
    byRow.set(r.row, list);
  });
  let majCorrect = 0;
  for (const samples of byRow.values()) {
    const votes = new Map<string, { count: number; correct: number }>();
    for (const s of samples) {
      if (s.answer === null) continue;
      const v = votes.get(s.answer) ?? { count: 0, correct: s.correct };
      v.count += 1;
      votes.set(s.answer, v);
    }
    const winner = [...votes.values()].sort((a, b) => b.count - a.count)[0];
    majCorrect += winner?.correct ?? 0;
  }
  return {
    pass1: mean(scores.map((s) => s.breakdown.accuracy?.value ?? 0)),
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
  rollouts: Rollout[],
  rewards: RewardSpec,
  key: string,
  t: Timings,
  recent?: RecentShards,
): Promise<{ ref: ArtifactRef; metrics: Metrics }> {
  const scores = await t.time('rewards', () =>
    scoreBatch(
      rollouts.map((r) => ({ response: r.text, gold: r.gold, completionTokens: r.tokens.length, truncated: r.finishReason === 'length' })),
      rewards,
    ),
  );
  const { ref } = await t.time('s3', () => store.putBytes(key, encodeJsonl(scores)));
  recent?.remember(ref, scores);
  return { ref, metrics: evalMetrics(rollouts, scores) };
}

/**
 * Samples one shard of a step's prompts and stores its rollouts (and, when the input asks, their
 * scores) next to each other; both stay in `recent` for a trainer in this process.
 */
export async function generateShard(store: ArtifactStore, pool: PolicyPool, recent: RecentShards, input: GenerateInput, t: Timings): Promise<GenerateResult> {
  const rows = (await t.time('s3', () => loadDataset(store, input.dataset))).length;
  const chosen = input.range
    ? Array.from({ length: Math.min(input.range.to, rows) - input.range.from }, (_, i) => input.range!.from + i)
    : shardRows(rows, input);
  const rollouts = await sample(pool, store, input, chosen, t);
  const shardFile = `${input.phase}/${stepName(input.step)}/shard-${input.shard}.jsonl`;
  const { ref } = await t.time('s3', () => store.putBytes(store.key(`pipelines/${input.pipelineId}/rollouts/${shardFile}`), encodeJsonl(rollouts)));
  recent.remember(ref, rollouts);
  const scored = input.rewards && (await scoreAndStore(store, rollouts, input.rewards, store.key(`pipelines/${input.pipelineId}/rewards/${shardFile}`), t, recent));
  return { ref, samples: rollouts.length, meanLength: mean(rollouts.map((r) => r.tokens.length)), ...(scored && { scored }), timings: t.metrics('rollout') };
}

export function rolloutActivities(store: ArtifactStore, pool: PolicyPool, recent: RecentShards) {
  return {
    /** Samples completions for one shard of a step's prompts and stores them (and, when asked, their scores); returns the refs. */
    generateRollouts: (input: GenerateInput): Promise<GenerateResult> => withHeartbeats(async (progress) => {
      progress({ step: input.step, shard: input.shard });
      return generateShard(store, pool, recent, input, new Timings());
    }),

    /** Scores every rollout of a step with the spec's rewards; a failing reward scores 0 with its reason. */
    verifyRollouts: (input: { pipelineId: string; phase: string; step: number; rollouts: ArtifactRef[]; rewards: RewardSpec }): Promise<{ ref: ArtifactRef; metrics: Metrics; timings: Metrics }> => withHeartbeats(async (progress) => {
      const t = new Timings();
      const rollouts: Rollout[] = [];
      for (const ref of input.rollouts) rollouts.push(...(await recent.read<Rollout>(store, ref, t)));
      progress({ step: input.step, samples: rollouts.length });
      const key = store.key(`pipelines/${input.pipelineId}/rewards/${input.phase}/${stepName(input.step)}.jsonl`);
      return { ...(await scoreAndStore(store, rollouts, input.rewards, key, t, recent)), timings: t.metrics('verify') };
    }),

    /** Held-out evaluation of a policy: k samples per prompt over the whole dataset. */
    evaluate: (input: {
      policy: CheckpointRef;
      dataset: DatasetRef;
      samples: number;
      sampling: Sampling;
      rewards: RewardSpec;
      seed: number;
      chatTemplate: PipelineSpec['chatTemplate'];
      tokenizer: PipelineSpec['tokenizer'];
      device: Device;
    }): Promise<Metrics> => withHeartbeats(async (progress) => {
      const rows = (await loadDataset(store, input.dataset)).length;
      const rollouts: Rollout[] = [];
      const chunk = 32; // prompts per generation batch, so that heartbeats keep flowing
      for (let start = 0; start < rows; start += chunk) {
        throwIfCancelled();
        progress({ evaluated: start, of: rows });
        const indices = Array.from({ length: Math.min(chunk, rows - start) }, (_, i) => start + i);
        rollouts.push(
          ...(await sample(pool, store, { ...input, step: 0, shard: start, shards: 1, promptsPerStep: indices.length, samplesPerPrompt: input.samples }, indices)),
        );
      }
      const scores = await scoreBatch(
        rollouts.map((r) => ({ response: r.text, gold: r.gold, completionTokens: r.tokens.length, truncated: r.finishReason === 'length' })),
        input.rewards,
      );
      return evalMetrics(rollouts, scores);
    }),
  };
}
