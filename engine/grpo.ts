/**
 * The GRPO update of one step (DESIGN.md, "GRPO, precisely"), the way verl's core_algos and TRL's
 * GRPOTrainer lay it out: group-relative advantages from the rewards, the samples that carry a
 * gradient (dynamic sampling, masked and empty completions left out), then μ iterations over
 * mini-batches, each one optimizer step on the loss of losses.ts. It runs on the engine thread
 * (trainer.ts calls it), so a step is one call across threads whatever μ and the mini-batches are.
 *
 * Sequences and per-token arrays are token-aligned (see batch.ts): prompt and completion together,
 * with only completion tokens in the loss.
 */
import type { GrpoConfig, ScaleRewards } from '../schemas/grpo';
import type { Metrics } from '../schemas/metrics';
import type { SampleScore } from '../schemas/rewards';
import type { Rollout } from '../schemas/rollouts';
import type { GrpoUpdateSettings } from '../schemas/training';
import type { GrpoLossScalar } from './losses';
import { learningRate, type OptimizerStep } from './schedule';

export interface GrpoBatch {
  sequences: Int32Array[];
  /** 1 for completion tokens. */
  completionMask: Uint8Array[];
  /** Log-probs under the policy that sampled the completions. */
  oldLogprobs: Float32Array[];
  /** Log-probs under the reference policy; needed when beta > 0. */
  refLogprobs?: Float32Array[];
  /** One per sequence. */
  advantages: Float32Array;
}

/** The loss of one optimizer step: its aggregation and its scalar inputs (losses.ts). */
export interface GrpoLoss {
  aggregation: GrpoConfig['lossAggregation'];
  scalars: Record<GrpoLossScalar, number>;
}

export interface GrpoMetrics {
  loss: number;
  gradNorm: number;
  tokens: number;
  kl: number;
  clipLow: number;
  clipHigh: number;
  entropy: number;
}

/** What the update needs of the policy it trains: the trainer's own functions. */
export interface GrpoPolicy {
  referenceLogprobs(sequences: Int32Array[]): Promise<Float32Array[]>;
  step(batch: GrpoBatch, loss: GrpoLoss, at: OptimizerStep): Promise<GrpoMetrics>;
  /** All the optimizer updates at once, as many `step` calls in turn would take them; when absent, `step` takes them. */
  steps?(steps: { batch: GrpoBatch; at: OptimizerStep }[], loss: GrpoLoss): Promise<GrpoMetrics[]>;
}

/** One step's rollouts (groups contiguous, `groupSize` samples each) and their scores, in the same order. */
export interface GrpoUpdateInput {
  step: number;
  rollouts: readonly Pick<Rollout, 'promptTokens' | 'tokens' | 'logprobs'>[];
  scores: readonly Pick<SampleScore, 'reward' | 'mask'>[];
  settings: GrpoUpdateSettings;
}

/**
 * A_i = (r_i - mean of its group) / (std + eps), the std taken over the group (`group`), over the
 * whole batch (`batch`), or not at all (`none`, Dr. GRPO). Std and eps are TRL's: the sample std
 * (divide by n-1) and 1e-4. `rewards` is flat, groups contiguous: [g0 s0, g0 s1, ..., g1 s0, ...].
 */
export function computeAdvantages(rewards: readonly number[], groupSize: number, scale: ScaleRewards, eps = 1e-4): Float32Array {
  if (groupSize < 1 || rewards.length % groupSize !== 0) {
    throw new Error(`computeAdvantages: ${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  const out = new Float32Array(rewards.length);
  const batchStd = std(rewards);
  for (let start = 0; start < rewards.length; start += groupSize) {
    const group = rewards.slice(start, start + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const divisor = scale === 'group' ? std(group) + eps : scale === 'batch' ? batchStd + eps : 1;
    group.forEach((r, i) => (out[start + i] = (r - mean) / divisor));
  }
  return out;
}

function std(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}

/**
 * Indices of the samples that enter the loss: groups whose rewards differ (all of them without
 * dynamic sampling), less the samples the rewards masked (DAPO's overlong filtering) and empty
 * completions.
 */
export function trainableSamples(
  input: { rollouts: readonly Pick<Rollout, 'tokens'>[]; scores: GrpoUpdateInput['scores'] },
  config: Pick<GrpoConfig, 'groupSize' | 'dynamicSampling'>,
): number[] {
  const { rollouts, scores } = input;
  const G = config.groupSize;
  const keep: number[] = [];
  for (let g = 0; g < rollouts.length; g += G) {
    const group = scores.slice(g, g + G).map((s) => s.reward);
    if (config.dynamicSampling && group.every((r) => r === group[0])) continue;
    for (let i = g; i < g + G; i++) if (!scores[i].mask && rollouts[i].tokens.length > 0) keep.push(i);
  }
  return keep;
}

/** The loss settings of the config, as the step graph's scalar inputs. */
function lossOf(config: GrpoConfig, maxNewTokens: number): GrpoLoss {
  return {
    aggregation: config.lossAggregation,
    scalars: { epsLow: config.epsLow, epsHigh: config.epsHigh, beta: config.beta, maxLen: maxNewTokens },
  };
}

/** Applies one GRPO step to `policy`; returns the step's metrics, each averaged over its optimizer updates. */
export async function grpoUpdate(policy: GrpoPolicy, input: GrpoUpdateInput): Promise<Metrics> {
  const { rollouts, scores, settings } = input;
  const config = settings.grpo;
  if (scores.length !== rollouts.length) throw new Error(`step ${input.step}: ${rollouts.length} rollouts but ${scores.length} scores`);
  const advantages = computeAdvantages(scores.map((s) => s.reward), config.groupSize, config.scaleRewards);
  const keep = trainableSamples(input, config);
  const reward = scores.reduce((a, s) => a + s.reward, 0) / Math.max(1, scores.length);
  // Nothing to learn from: the step still counts, so that step numbers stay aligned.
  if (keep.length === 0) return { reward, kept: 0, updates: 0, loss: 0, kl: 0, clipLow: 0, clipHigh: 0, entropy: 0, gradNorm: 0 };

  const kept = keep.map((i) => rollouts[i]);
  const sequences = kept.map((r) => Int32Array.from([...r.promptTokens, ...r.tokens]));
  const completionMask = kept.map((r, j) => Uint8Array.from(sequences[j], (_, t) => (t >= r.promptTokens.length ? 1 : 0)));
  const oldLogprobs = kept.map((r, j) => {
    const out = new Float32Array(sequences[j].length);
    out.set(r.logprobs, r.promptTokens.length);
    return out;
  });
  const refLogprobs = config.beta > 0 ? await policy.referenceLogprobs(sequences) : undefined;
  const loss = lossOf(config, settings.maxNewTokens);
  const at: OptimizerStep = { optimizer: settings.optimizer, step: input.step, totalSteps: settings.totalSteps };

  // μ updates on the same rollouts, each over contiguous mini-batches (whole groups stay together
  // when the sizes allow). From the second update on, the ratio to the sampling policy moves and
  // the clip acts.
  const parts = Math.min(config.miniBatches, keep.length);
  const steps: { batch: GrpoBatch; at: OptimizerStep }[] = [];
  for (let iteration = 0; iteration < config.iterations; iteration++) {
    for (let part = 0; part < parts; part++) {
      const from = Math.floor((part * keep.length) / parts);
      const to = Math.floor(((part + 1) * keep.length) / parts);
      const batch: GrpoBatch = {
        sequences: sequences.slice(from, to),
        completionMask: completionMask.slice(from, to),
        oldLogprobs: oldLogprobs.slice(from, to),
        refLogprobs: refLogprobs?.slice(from, to),
        advantages: Float32Array.from(keep.slice(from, to), (i) => advantages[i]),
      };
      steps.push({ batch, at });
    }
  }
  let updates: GrpoMetrics[] = [];
  if (policy.steps) updates = await policy.steps(steps, loss);
  else for (const u of steps) updates.push(await policy.step(u.batch, loss, u.at));
  return { reward, kept: keep.length, lr: learningRate(at), updates: updates.length, ...meanOf(updates) };
}

/** Each metric averaged over the step's optimizer updates. */
function meanOf(updates: GrpoMetrics[]): Metrics {
  const out: Metrics = {};
  for (const key of Object.keys(updates[0]) as (keyof GrpoMetrics)[]) out[key] = updates.reduce((a, m) => a + m[key], 0) / updates.length;
  return out;
}
