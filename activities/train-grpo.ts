import { Context } from '@temporalio/activity';
import { computeAdvantages } from '../engine/advantages';
import type { TrainerState } from '../engine/checkpoint';
import type { GrpoMetrics } from '../engine/trainer';
import { learningRate } from '../engine/schedule';
import type { Device } from '../schemas/device';
import type { Metrics } from '../schemas/metrics';
import type { Optimizer, PipelineSpec } from '../schemas/pipeline-spec';
import type { ArtifactRef, CheckpointRef } from '../schemas/refs';
import type { SampleScore } from '../schemas/rewards';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestCheckpoint, readManifest } from '../storage/checkpoints';
import { activityProducer, commitTrainerState } from './model-checkpoints';
import type { RecentShards } from './recent-shards';
import { generateShard, type GenerateInput, type GenerateResult, type Rollout } from './rollouts';
import { Timings } from './timings';
import { throwIfCancelled, withHeartbeats } from './heartbeat';
import type { PolicyPool } from './policy-pool';
import { resumeTrainer, trainerKey, type LiveTrainer, type TrainerHost } from './trainer-host';

/** The data of one GRPO step: its rollouts (all shards, in order) and their scores (one file per shard, or one for the step). */
export interface GrpoStepData {
  step: number;
  rollouts: ArtifactRef[];
  rewards: ArtifactRef[];
}

export interface GrpoStepInput {
  pipelineId: string;
  phase: string;
  base: CheckpointRef;
  /** The phase's last committed checkpoint as the workflow knows it (null before the first). */
  checkpoint: CheckpointRef | null;
  /**
   * Every step since the phase's last committed checkpoint, this one last. A trainer that lost
   * its memory restores that checkpoint and replays them: each step is applied exactly once.
   */
  pending: GrpoStepData[];
  commit: boolean;
  totalSteps: number;
  groupSize: number;
  optimizer: Optimizer;
  epsLow: number;
  epsHigh: number;
  beta: number;
  lossAggregation: 'grpo' | 'dapo' | 'dr_grpo';
  scaleRewards: 'group' | 'batch' | 'none';
  dynamicSampling: boolean;
  iterations: number;
  miniBatches: number;
  maxNewTokens: number;
  seed: number;
  tokenizer: PipelineSpec['tokenizer'];
  device: Device;
  /**
   * Colocated rollouts: once the step is applied, sample the next step's rollouts here with the
   * new weights (which this process holds), instead of in an activity of their own.
   */
  next?: Omit<GenerateInput, 'policy'>;
}

export interface GrpoStepResult {
  step: number;
  /** Weights after this step, for the next step's rollouts (no optimizer state). */
  policy: CheckpointRef;
  /** Set when this step committed a full checkpoint. */
  checkpoint: CheckpointRef | null;
  metrics: Metrics;
  /** The next step's rollouts, when the input asked for them. */
  next?: GenerateResult;
}

export const policyPhase = (phase: string) => `${phase}.policy`;

async function applyStep(store: ArtifactStore, recent: RecentShards, trainer: LiveTrainer, input: GrpoStepInput, data: GrpoStepData, t: Timings): Promise<Metrics> {
  const rollouts: Rollout[] = [];
  for (const ref of data.rollouts) rollouts.push(...(await recent.read<Rollout>(store, ref, t)));
  const scores: SampleScore[] = [];
  for (const ref of data.rewards) scores.push(...(await recent.read<SampleScore>(store, ref, t)));
  if (scores.length !== rollouts.length) throw new Error(`step ${data.step}: ${rollouts.length} rollouts but ${scores.length} scores`);

  const advantages = computeAdvantages(scores.map((s) => s.reward), input.groupSize, input.scaleRewards);
  // Keep groups that carry a gradient (dynamic sampling) and samples the rewards did not mask.
  const keep: number[] = [];
  for (let g = 0; g < rollouts.length; g += input.groupSize) {
    const group = scores.slice(g, g + input.groupSize).map((s) => s.reward);
    if (input.dynamicSampling && group.every((r) => r === group[0])) continue;
    for (let i = g; i < g + input.groupSize; i++) if (!scores[i].mask && rollouts[i].tokens.length > 0) keep.push(i);
  }
  const rewardMean = scores.reduce((a, s) => a + s.reward, 0) / Math.max(1, scores.length);
  if (keep.length === 0) {
    // Nothing to learn from; the step still counts so that step numbers stay aligned.
    trainer.step = data.step;
    return { reward: rewardMean, kept: 0, updates: 0, loss: 0, kl: 0, clipLow: 0, clipHigh: 0, entropy: 0, gradNorm: 0 };
  }

  // Token-aligned arrays over prompt + completion; only completion tokens enter the loss.
  const kept = keep.map((i) => rollouts[i]);
  const sequences = kept.map((r) => Int32Array.from([...r.promptTokens, ...r.tokens]));
  const completionMask = kept.map((r, j) => Uint8Array.from(sequences[j], (_, t) => (t >= r.promptTokens.length ? 1 : 0)));
  const oldLogprobs = kept.map((r, j) => {
    const out = new Float32Array(sequences[j].length);
    out.set(r.logprobs, r.promptTokens.length);
    return out;
  });
  const refLogprobs = input.beta > 0 ? await t.time('engine', () => trainer.engine.logprobs(sequences, 'reference')) : undefined;
  const o = input.optimizer;
  const lr = learningRate(data.step, { lr: o.lr, warmupSteps: o.warmupSteps, minLrRatio: o.minLrRatio, totalSteps: input.totalSteps });
  const hyper = {
    lr, beta1: o.beta1, beta2: o.beta2, weightDecay: o.weightDecay, gradClip: o.gradClip,
    epsLow: input.epsLow, epsHigh: input.epsHigh, beta: input.beta, lossAggregation: input.lossAggregation, maxLen: input.maxNewTokens,
  };
  // μ updates on the same rollouts, each over contiguous mini-batches (whole groups stay together
  // when the sizes allow). From the second update on, the ratio to the sampling policy moves and
  // the clip acts.
  const parts = Math.min(input.miniBatches, keep.length);
  const updates: GrpoMetrics[] = [];
  for (let iteration = 0; iteration < input.iterations; iteration++) {
    for (let part = 0; part < parts; part++) {
      const from = Math.floor((part * keep.length) / parts);
      const to = Math.floor(((part + 1) * keep.length) / parts);
      const m = await t.time('engine', () =>
        trainer.engine.grpoStep(
          {
            sequences: sequences.slice(from, to),
            completionMask: completionMask.slice(from, to),
            oldLogprobs: oldLogprobs.slice(from, to),
            refLogprobs: refLogprobs?.slice(from, to),
            advantages: Float32Array.from(keep.slice(from, to), (i) => advantages[i]),
          },
          hyper,
        ),
      );
      updates.push(m);
    }
  }
  trainer.step = data.step;
  return { reward: rewardMean, kept: keep.length, lr, updates: updates.length, ...meanOf(updates) };
}

/** Each metric averaged over the step's optimizer updates. */
function meanOf(updates: GrpoMetrics[]): Metrics {
  const out: Metrics = {};
  for (const key of Object.keys(updates[0]) as (keyof GrpoMetrics)[]) out[key] = updates.reduce((a, m) => a + m[key], 0) / updates.length;
  return out;
}

/**
 * The phase's trainer in this process, ready to apply `target`: when this process applied every
 * step before it on the lineage the phase knows (the usual case), no S3 listing is needed.
 * Otherwise the committed and published checkpoints decide: a step already applied returns its
 * result (`done`), a trainer off the committed lineage is restored from it.
 */
async function trainerFor(store: ArtifactStore, host: TrainerHost, input: GrpoStepInput, target: number, t: Timings) {
  const live = host.get(trainerKey(input));
  if (live && live.step === target - 1 && live.basis === (input.checkpoint ?? input.base).uri) {
    return { trainer: live, committed: input.checkpoint, published: null, done: null };
  }
  const committed = await t.time('s3', () => latestCheckpoint(store, input.pipelineId, input.phase));
  const published = await t.time('s3', () => latestCheckpoint(store, input.pipelineId, policyPhase(input.phase)));
  if (committed && committed.step >= target && published && published.step >= target) {
    const done: GrpoStepResult = { step: target, policy: published, checkpoint: committed, metrics: (await readManifest(store, committed)).metrics };
    return { trainer: null, committed, published, done };
  }
  const basis = (committed ?? input.base).uri;
  const lastCommitted = committed?.step ?? 0;
  const trainer =
    live && live.basis === basis && live.step >= lastCommitted && live.step <= target
      ? live
      : await resumeTrainer(store, host, input, committed, { withReference: input.beta > 0 });
  return { trainer, committed, published, done: null };
}

export function grpoActivities(store: ArtifactStore, host: TrainerHost, pool: PolicyPool, recent: RecentShards) {
  /**
   * Applies the last of `input.pending` on this worker's trainer (replaying earlier ones only
   * when the trainer had to be restored), publishes the new policy for rollouts and, when asked,
   * commits a full checkpoint. A retried call for a step already applied applies nothing.
   * Steps trained but not yet checkpointed are saved when the worker shuts down (at the end of
   * its grace time, the step under way is cancelled and saved the same way), so the trainer
   * that takes over restores them instead of replaying them.
   */
  const applyPending = (input: GrpoStepInput, progress: (details: unknown) => void) => host.exclusive(async (): Promise<GrpoStepResult> => {
    const t = new Timings();
    const target = input.pending[input.pending.length - 1].step;
    const { trainer, committed, published, done } = await trainerFor(store, host, input, target, t);
    if (done) return done;
    const cancel = Context.current().cancellationSignal;
    const exportState = () => t.time('engine', () => trainer.engine.exportState());
    const producer = activityProducer();
    const commitFull = async (metrics: Metrics, state: TrainerState, by = producer) => {
      const checkpoint = await t.time('s3', () =>
        commitTrainerState(
          store,
          { pipelineId: input.pipelineId, phase: input.phase, step: trainer.step },
          { ...state, extra: { seed: input.seed } },
          committed ?? input.base,
          metrics,
          by,
        ),
      );
      trainer.basis = checkpoint.uri;
      trainer.saveOnExit = undefined;
      return checkpoint;
    };

    let metrics: Metrics = {};
    for (const data of input.pending) {
      if (data.step <= trainer.step) continue;
      if (cancel.aborted) {
        if (trainer.step > (committed?.step ?? 0)) await commitFull(metrics, await exportState());
        throw cancel.reason;
      }
      metrics = await applyStep(store, recent, trainer, input, data, t);
      progress({ step: data.step });
    }
    if (Object.keys(metrics).length === 0 && published?.step === target) {
      metrics = (await readManifest(store, published)).metrics; // applied before, response lost
    }

    const state = await exportState();
    const policy = await t.time('s3', () =>
      commitTrainerState(
        store,
        { pipelineId: input.pipelineId, phase: policyPhase(input.phase), step: target },
        { config: state.config, weights: state.weights },
        committed ?? input.base,
        metrics,
      ),
    );
    // Rollout workers in this process take the new policy from memory instead of S3.
    pool.remember(policy, { config: state.config, weights: state.weights });
    const checkpoint = input.commit || cancel.aborted ? await commitFull(metrics, state) : null;
    if (!checkpoint) trainer.saveOnExit = async (reason) => commitFull(metrics, await exportState(), { ...producer, activity: reason });
    return { step: target, policy, checkpoint, metrics: { ...metrics, ...t.metrics('train') } };
  });

  return {
    /**
     * One GRPO step on this worker's trainer; with `next` (colocated rollouts), then the next
     * step's rollouts, sampled with the weights just made: one activity per step instead of two.
     */
    trainGrpoStep: (input: GrpoStepInput): Promise<GrpoStepResult> => withHeartbeats(async (progress) => {
      const result = await applyPending(input, progress);
      if (!input.next) return result;
      throwIfCancelled();
      progress({ step: input.next.step, rollouts: true });
      return { ...result, next: await generateShard(store, pool, recent, { ...input.next, policy: result.policy }, new Timings()) };
    }),
  };
}
