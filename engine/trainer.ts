/**
 * The trainer: a model, its AdamW state and a random generator, kept in module state and driven
 * by plain async functions. It is meant to be loaded on an engine thread (engine.ts does that),
 * since onnxruntime's run() blocks the thread it is called on. Every graph is built and its
 * session created once, on first use; symbolic batch/sequence dims let one session serve all shapes.
 *
 * Sequences and per-token arrays are token-aligned: entry j of a per-token array belongs to token j
 * (a log-prob is log p(token j | tokens < j); entry 0 is 0).
 *
 * The trainer owns the tensors it is given (init, setWeights, importState): a step on the
 * CPU, or over micro-batches, updates weights and moments in place. What it hands out (exportState) are copies.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import type { Lora } from '../schemas/lora';
import type { EngineEnvironment } from '../schemas/manifest';
import type { LossAggregation } from '../schemas/grpo';
import type { Metrics } from '../schemas/metrics';
import { modelConfigSchema, type ModelConfig } from '../schemas/model';
import { MemorySchema, type Memory } from '../schemas/runtime';
import { packSequences } from './batch';
import { collectGarbage } from './collect-garbage';
import { createSession, type Device } from './device';
import { engineEnvironment } from './environment';
import { generate as sample, type GenerateOptions, type Generation } from './generate';
import { ADAMW_INPUTS, GRPO_METRICS, SFT_METRICS, applyGraph, applyGroups, decodeGraph, grpoStepGraph, logprobsGraph, sftStepGraph, type StepGraphOptions } from './graphs';
import { grpoUpdate as runGrpoUpdate, type GrpoBatch, type GrpoLoss, type GrpoMetrics, type GrpoUpdateInput } from './grpo';
import { adapterShapes, initAdapters, mergeGraph, type LoraState } from './lora';
import { loopFeeds, loopedStepGraph } from './looped';
import { lossShare, type BatchCounts } from './losses';
import { initParameters, parameterShapes } from './model';
import type { Graph } from './onnx/builder';
import { Rng, type RngState } from './rng';
import { learningRate, type OptimizerStep } from './schedule';
import { engineThreadOptions } from './thread';
import { NamedTensors, TensorF32, numel } from './tensors';
import { tokenizerOf, type Tokenizer } from './tokenizer';

/** AdamW's state, one pair of moments per trained parameter (every weight, or with LoRA every adapter tensor). */
export interface OptimizerState {
  m: NamedTensors;
  v: NamedTensors;
  /** AdamW steps taken so far. */
  step: number;
}

/**
 * A PolicyRuntime (schemas/runtime.ts) fits, with the worker's own device in place of the kind the
 * pipeline needs; its chat template is not the engine's business.
 */
export interface InitOptions {
  config: unknown; // parsed with modelConfigSchema
  /** Seeds fresh weights (when none are given), fresh adapters and the sampling generator. */
  seed: number;
  /** With `lora`, the frozen base weights. */
  weights?: NamedTensors;
  /** Train LoRA adapters of these projections instead of the weights; they start fresh (engine/lora.ts) unless importState brings saved ones. */
  lora?: Lora;
  optimizer?: OptimizerState;
  rng?: RngState;
  device?: Device;
  /** The model's tokenizer files (checkpoint assets); none: the byte tokenizer. Kept and exported with the state. */
  assets?: Record<string, Uint8Array>;
  /** Micro-batches and recomputation; none: whole batches, nothing recomputed. */
  memory?: Memory;
  /**
   * With `lora`, how the train step and the merge get the frozen base
   * (StepGraphOptions.baseInitializers): as session initializers, given once per session, or as
   * inputs of every run. Default: by device. Initializers on CUDA, where inputs cross PCIe every
   * run; inputs on the CPU, where onnxruntime copies initializers and keeps each weight also
   * transposed (folded from the forward pass's Wᵀ): SmolLM2's LoRA steps ran 5-19% faster with
   * them but peaked 1.5 GB higher (bench/lora.ts).
   */
  loraBase?: 'inputs' | 'initializers';
}

export interface SftBatch {
  sequences: Int32Array[];
  /** 1 for tokens the loss trains on (the completion), 0 for the rest (the prompt). */
  lossMask: Uint8Array[];
}

export interface SftMetrics {
  loss: number;
  gradNorm: number;
  tokens: number;
}

export interface ExportedState {
  config: ModelConfig;
  /** The policy's weights: with LoRA, merged (W + alpha/rank B A), which is what everything else reads. */
  weights: NamedTensors;
  optimizer: OptimizerState;
  rng: RngState;
  lora?: LoraState;
  assets?: Record<string, Uint8Array>;
}

interface State {
  config: ModelConfig;
  device: Device;
  memory: Memory;
  /** The weights; with LoRA the frozen base, which `policyWeights` merges with the adapters. */
  weights: NamedTensors;
  lora?: LoraState & {
    base: 'inputs' | 'initializers';
    /** The merged weights since the last step, made when first asked for. */
    merged?: NamedTensors;
  };
  /**
   * AdamW's moments, twice the weights' size: made on the first train step (or taken from init
   * or importState), so an engine that only generates or scores never holds them.
   */
  optimizer?: OptimizerState;
  rng: Rng;
  tokenizer: Tokenizer;
  assets?: Record<string, Uint8Array>;
  /** Weights of the reference policy, once snapshotReference() was called. */
  reference?: NamedTensors;
  sessions: Map<string, Promise<InferenceSession>>;
  /**
   * The one train-step session kept (SFT, or GRPO with one aggregation). onnxruntime gives each
   * session an arena as large as its run's activations and keeps it for the session's life, so
   * an SFT session kept beside a GRPO one held both: SmolLM2 at B=8 T=128 peaked at 10.2 GB
   * instead of 6.7. Moving between kinds (a phase change) builds the next one afresh. On the CPU
   * and with micro-batches this is the gradient graph's session (trainStep); the apply graphs'
   * (small: they hold no activations) are among `sessions`.
   */
  trainSession?: { key: string; session: Promise<InferenceSession> };
}

let state: State | undefined;

function current(): State {
  if (!state) throw new Error('trainer: call init() first');
  return state;
}

export async function init(opts: InitOptions): Promise<{ parameters: number; environment: EngineEnvironment }> {
  const config = modelConfigSchema.parse(opts.config);
  const weights = opts.weights ?? initParameters(config, opts.seed);
  checkTensors('weights', weights, parameterShapes(config));
  const threads = engineThreadOptions().intraOpThreads;
  const device: Device = opts.device ?? { kind: 'cpu', ...(threads ? { threads } : {}) };
  const base = opts.loraBase ?? (device.kind === 'cuda' ? 'initializers' : 'inputs');
  const lora = opts.lora && { config: opts.lora, adapters: initAdapters(config, opts.lora, opts.seed), base };
  if (opts.optimizer) checkOptimizer(opts.optimizer, trainedShapes(config, lora));
  const memory = MemorySchema.parse(opts.memory ?? {});
  state = {
    config,
    device,
    memory,
    weights,
    ...(lora && { lora }),
    ...(opts.optimizer && { optimizer: opts.optimizer }),
    rng: opts.rng ? Rng.fromState(opts.rng) : new Rng(opts.seed),
    tokenizer: tokenizerOf(opts.assets),
    ...(opts.assets && { assets: opts.assets }),
    sessions: new Map(),
  };
  return { parameters: Object.values(weights).reduce((n, t) => n + t.data.length, 0), environment: engineEnvironment(state.device) };
}

/** One AdamW step on the masked token cross-entropy. */
export async function sftStep(batch: SftBatch, at: OptimizerStep): Promise<SftMetrics> {
  const s = current();
  const parts = microBatches(s, batch.sequences.length).map((rows) => sftPart(batch, rows));
  const out = await trainStep(s, 'sft', (opts) => sftStepGraph(s.config, opts), parts, SFT_METRICS, at);
  return { ...out, tokens: sum(parts.map((p) => p.tokens)) };
}

/** Several SFT steps, each on its batch at its place in the schedule, in one onnxruntime run (looped.ts): what as many sftStep calls give. */
export async function sftSteps(steps: { batch: SftBatch; at: OptimizerStep }[]): Promise<SftMetrics[]> {
  const s = current();
  const parts = steps.map(({ batch }) => sftPart(batch, [0, batch.sequences.length]));
  const out = await loopedSteps(s, 'sft', (opts) => sftStepGraph(s.config, opts), parts, steps.map((x) => x.at), SFT_METRICS);
  return out.map((m, i) => ({ ...m, tokens: parts[i].tokens }));
}

/**
 * One GRPO step (grpo.ts): advantages, the samples that count, μ iterations over mini-batches.
 * Its optimizer updates run in one onnxruntime run (grpoSteps) where that pays (wholeGraphSteps), or
 * where `looped` says so.
 */
export async function grpoUpdate(input: GrpoUpdateInput, opts: { looped?: boolean } = {}): Promise<Metrics> {
  const looped = opts.looped ?? wholeGraphSteps(current());
  return runGrpoUpdate({ referenceLogprobs: (sequences) => logprobs(sequences, 'reference'), step: grpoStep, ...(looped && { steps: grpoSteps }) }, input);
}

/** One AdamW step on the GRPO objective (losses.ts) over a prepared batch. */
export async function grpoStep(batch: GrpoBatch, loss: GrpoLoss, at: OptimizerStep): Promise<GrpoMetrics> {
  const s = current();
  const parts = microBatches(s, batch.sequences.length).map((rows) => grpoPart(batch, loss, rows));
  const agg = loss.aggregation;
  const out = await trainStep(s, agg, (opts) => grpoStepGraph(s.config, agg, opts), parts, GRPO_METRICS, at);
  return { ...out, tokens: sum(parts.map((p) => p.tokens)) };
}

/** Several GRPO optimizer updates with one loss, each on its batch at its place in the schedule, in one onnxruntime run (looped.ts): what as many grpoStep calls give. */
export async function grpoSteps(steps: { batch: GrpoBatch; at: OptimizerStep }[], loss: GrpoLoss): Promise<GrpoMetrics[]> {
  const s = current();
  const parts = steps.map(({ batch }) => grpoPart(batch, loss, [0, batch.sequences.length]));
  const agg = loss.aggregation;
  const out = await loopedSteps(s, agg, (opts) => grpoStepGraph(s.config, agg, opts), parts, steps.map((x) => x.at), GRPO_METRICS);
  return out.map((m, i) => ({ ...m, tokens: parts[i].tokens }));
}

/** Per-token log-probs of each sequence under the policy, or the reference (snapshotReference). */
export async function logprobs(sequences: Int32Array[], policy: 'policy' | 'reference' = 'policy'): Promise<Float32Array[]> {
  const s = current();
  const weights = policy === 'policy' ? await policyWeights(s) : s.reference;
  if (!weights) throw new Error('logprobs: no reference policy (call snapshotReference() first)');
  const packed = packSequences(sequences);
  const session = await sessionFor(s, 'logprobs', () => logprobsGraph(s.config));
  const out = await session.run({ ...weightFeeds(weights), ...packed.feeds });
  return packed.unshift(out.logprobs.data as Float32Array);
}

/** Keeps a copy of the current weights as the reference policy for the KL term. */
export async function snapshotReference(): Promise<void> {
  const s = current();
  s.reference = copyTensors(await policyWeights(s));
}

export async function generate(prompts: Int32Array[], opts: GenerateOptions): Promise<Generation[]> {
  const s = current();
  const session = await sessionFor(s, 'decode', () => decodeGraph(s.config));
  const weights = weightFeeds(await policyWeights(s));
  const rng = opts.seed === undefined ? s.rng : new Rng(opts.seed);
  return sample((feeds) => session.run({ ...weights, ...feeds }), s.config, s.tokenizer, prompts, opts, rng);
}

/** Copies of everything needed to resume exactly (the reference policy is not included). */
export async function exportState(): Promise<ExportedState> {
  const s = current();
  const o = s.optimizer;
  return {
    config: s.config,
    weights: copyTensors(await policyWeights(s)),
    optimizer: o ? { m: copyTensors(o.m), v: copyTensors(o.v), step: o.step } : freshOptimizer(trained(s)),
    rng: s.rng.getState(),
    ...(s.lora && { lora: { config: s.lora.config, adapters: copyTensors(s.lora.adapters) } }),
    ...(s.assets && { assets: copyBytes(s.assets) }),
  };
}

/** Replaces only the weights (a rollout worker moving to a newer policy); sessions are kept. */
export async function setWeights(weights: NamedTensors): Promise<void> {
  const s = current();
  if (s.lora) throw new Error('setWeights: a LoRA trainer\'s weights are its frozen base; it takes saved adapters (importState)');
  checkTensors('weights', weights, parameterShapes(s.config));
  s.weights = weights;
}

/**
 * Replaces weights, optimizer and generator; sessions and the reference policy are kept. A LoRA
 * trainer takes the saved adapters and their moments instead, and keeps the base it was started
 * with: the saved `weights` are the merged ones (exportState), which would not give the base back
 * exactly, so they are only checked for shape.
 */
export async function importState(saved: { config: unknown; weights: NamedTensors; optimizer: OptimizerState; rng: RngState; lora?: LoraState }): Promise<void> {
  const s = current();
  const config = modelConfigSchema.parse(saved.config);
  if (JSON.stringify(config) !== JSON.stringify(s.config)) throw new Error('importState: the saved model config differs from the trainer\'s');
  if (JSON.stringify(saved.lora?.config) !== JSON.stringify(s.lora?.config)) {
    throw new Error(`importState: the saved state's lora (${JSON.stringify(saved.lora?.config ?? 'none')}) differs from the trainer's (${JSON.stringify(s.lora?.config ?? 'none')})`);
  }
  checkTensors('weights', saved.weights, parameterShapes(config));
  checkOptimizer(saved.optimizer, trainedShapes(config, saved.lora));
  if (s.lora && saved.lora) {
    checkTensors('lora.adapters', saved.lora.adapters, adapterShapes(config, saved.lora.config));
    s.lora = { config: s.lora.config, adapters: saved.lora.adapters, base: s.lora.base };
  } else {
    s.weights = saved.weights;
  }
  s.optimizer = saved.optimizer;
  s.rng = Rng.fromState(saved.rng);
}

// ---- internals ----------------------------------------------------------------------------

/** Adam's epsilon. */
const ADAM_EPS = 1e-8;

/** A step whose loss is NaN or infinite: the same batch would give the same again, so it is not retried. */
class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  readonly nonRetryable = true;
}

/** One micro-batch of a step: its graph feeds and what it holds. */
interface BatchPart extends BatchCounts {
  feeds: Record<string, OrtTensor>;
}

/** Row ranges [from, to) of a batch of `rows`: runs of memory.microBatchSize, or the whole batch (one empty range for none, which packing refuses). */
function microBatches(s: State, rows: number): [number, number][] {
  const size = s.memory.microBatchSize ?? Math.max(rows, 1);
  return Array.from({ length: Math.max(1, Math.ceil(rows / size)) }, (_, i) => [i * size, Math.min(rows, (i + 1) * size)]);
}

/** Rows [from, to) of an SFT batch as graph feeds. */
function sftPart(batch: SftBatch, [from, to]: [number, number]): BatchPart {
  const packed = packSequences(batch.sequences.slice(from, to));
  const lossMask = packed.shift(batch.lossMask.slice(from, to), 'lossMask');
  return { feeds: { ...packed.feeds, lossMask }, sequences: to - from, tokens: count(lossMask) };
}

/** Rows [from, to) of a GRPO batch, and the loss's scalars, as graph feeds. */
function grpoPart(batch: GrpoBatch, loss: GrpoLoss, [from, to]: [number, number]): BatchPart {
  if (loss.scalars.beta > 0 && !batch.refLogprobs) throw new Error('grpoStep: beta > 0 needs refLogprobs');
  if (loss.aggregation === 'dr_grpo' && !(loss.scalars.maxLen > 0)) throw new Error('grpoStep: dr_grpo needs maxLen > 0');
  if (batch.advantages.length !== batch.sequences.length) {
    throw new Error(`grpoStep: ${batch.advantages.length} advantages for ${batch.sequences.length} sequences`);
  }
  const packed = packSequences(batch.sequences.slice(from, to));
  const lossMask = packed.shift(batch.completionMask.slice(from, to), 'completionMask');
  const oldLogprobs = packed.shift(batch.oldLogprobs.slice(from, to), 'oldLogprobs');
  // Without a reference the KL term is weighted 0; the old policy stands in so the metric stays finite.
  const refLogprobs = batch.refLogprobs ? packed.shift(batch.refLogprobs.slice(from, to), 'refLogprobs') : oldLogprobs;
  const feeds: Record<string, OrtTensor> = {
    ...packed.feeds,
    lossMask,
    oldLogprobs,
    refLogprobs,
    advantages: new Tensor('float32', batch.advantages.slice(from, to), [packed.B]),
  };
  for (const [name, value] of Object.entries(loss.scalars)) feeds[name] = scalar(value);
  return { feeds, sequences: to - from, tokens: count(lossMask) };
}

/**
 * One optimizer step over the batch that `parts` make up; returns its metrics as if the batch
 * had run whole. `loss` names the step's loss for lossShare and its sessions. A step whose loss
 * is not finite throws NonFiniteLossError and leaves the weights and moments as they were.
 *
 * Where a whole batch runs as one graph (wholeGraphSteps) the step is a looped run of one update;
 * elsewhere the gradient graph runs once per part, each adding its loss's share of the whole
 * batch's (lossShare) to the gradients so far, then a check of the whole batch's loss, then
 * the update, one group of parameters at a time (applyGroups), clipped by the whole batch's
 * gradient norm. The metrics are those of the whole batch: the loss as the sum of the parts'
 * shares, the others (token means) weighted by the parts' tokens.
 *
 * The state is held once: onnxruntime writes each run's new gradient sums, weights and moments
 * into the buffers they were computed from (preallocated outputs; applyGraph says why that is
 * safe). A whole-batch graph holds weights and both moments three times in its run (inputs,
 * onnxruntime's outputs, and the binding's copies of them): SmolLM2's steps at 8 x 512 peaked
 * ~1 GB higher that way, and a 0.5B model's did not fit 20 GB. The copies of the outputs that the
 * binding also returns are collected after each run (runInPlace).
 */
async function trainStep<K extends string>(
  s: State, loss: LossAggregation | 'sft', build: (opts: StepGraphOptions) => Graph, parts: BatchPart[], metrics: readonly K[], at: OptimizerStep,
): Promise<Record<K, number>> {
  if (wholeGraphSteps(s)) return (await loopedSteps(s, loss, build, parts, [at], metrics))[0];
  const optimizer = optimizerOf(s);
  const step = optimizer.step + 1;
  const session = await trainSessionFor(s, `${loss}-gradient`, () => build(stepGraphOptions(s, 'gradient')));
  const { grads, values } = await gradientSums(s, session, loss, parts, metrics);
  if (!Number.isFinite(values.loss)) throw new NonFiniteLossError(`${loss} step ${step}: loss is ${values.loss}; weights left unchanged`);
  await applyUpdate(s, grads, { ...updateFeeds(s, at.optimizer), step: scalar(step), lr: scalar(learningRate(at)), gradNorm: scalar(values.gradNorm) });
  optimizer.step = step;
  if (s.lora) s.lora.merged = undefined;
  return values;
}

/** The gradient graph over each part in turn: the whole batch's gradients `grad.<name>` and its metrics. */
async function gradientSums<K extends string>(
  s: State, session: InferenceSession, loss: LossAggregation | 'sft', parts: BatchPart[], metrics: readonly K[],
): Promise<{ grads: Record<string, OrtTensor>; values: Record<K | 'loss' | 'gradNorm', number> }> {
  const whole: BatchCounts = { sequences: sum(parts.map((p) => p.sequences)), tokens: sum(parts.map((p) => p.tokens)) };
  const params = trained(s);
  const grads: Record<string, OrtTensor> = {};
  const fetches: Record<string, OrtTensor | null> = Object.fromEntries(metrics.map((m) => [m, null]));
  for (const name of Object.keys(params)) {
    grads[`grad.${name}`] = new Tensor('float32', new Float32Array(params[name].data.length), params[name].dims);
    fetches[`new.grad.${name}`] = grads[`grad.${name}`];
  }
  const model = modelFeeds(s);
  const values = Object.fromEntries([...metrics, 'loss', 'gradNorm'].map((m) => [m, 0])) as Record<K | 'loss' | 'gradNorm', number>;
  for (const part of parts) {
    const share = lossShare(loss, part, whole);
    const partOut = await runInPlace(session, { ...model, ...part.feeds, ...grads, lossWeight: scalar(share) }, fetches, metrics);
    for (const m of metrics) {
      // The norm of the sums so far: the last part's is the whole batch's.
      if (m === 'gradNorm') values.gradNorm = partOut.gradNorm;
      else values[m] += partOut[m] * (m === 'loss' ? share : lossShare('dapo', part, whole));
    }
  }
  return { grads, values };
}

/**
 * AdamW from the gradients `grads`, one group of parameters at a time (applyGroups), each run
 * writing the new values, moments included, over the old. `update`: updateFeeds, with the
 * step's `step`, `lr` and the whole gradient's `gradNorm`.
 */
async function applyUpdate(s: State, grads: Record<string, OrtTensor>, update: Record<string, OrtTensor>): Promise<void> {
  const hyper = Object.fromEntries([...ADAMW_INPUTS, 'gradNorm'].map((k) => [k, update[k]]));
  const lora = s.lora?.config;
  for (const { group, inputs, runs } of applyGroups(s.config, lora)) {
    const apply = await sessionFor(s, `apply-${group}`, () => applyGraph(s.config, group, lora), { arena: false });
    for (const run of runs) {
      const feeds: Record<string, OrtTensor> = { ...hyper };
      const written: Record<string, OrtTensor> = {};
      run.forEach((name, i) => {
        for (const prefix of ['', 'grad.', 'm.', 'v.']) feeds[prefix + inputs[i]] = (prefix === 'grad.' ? grads : update)[prefix + name];
        for (const prefix of ['', 'm.', 'v.']) written[`new.${prefix}${inputs[i]}`] = feeds[prefix + inputs[i]];
      });
      await runInPlace(apply, feeds, written, []);
    }
  }
}

/**
 * A run whose large outputs land in the buffers `fetches` gives; returns the values of its
 * rank-0 outputs `scalars` (also fetched, as null). The copies of the rest that the binding
 * returns are collected before this returns (collect-garbage.ts), so one run's copies exist at a time.
 */
async function runInPlace(session: InferenceSession, feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, scalars: readonly string[]): Promise<Record<string, number>> {
  const values = await runForScalars(session, feeds, fetches, scalars);
  await collectGarbage();
  return values;
}

/** Apart from runInPlace, so that no frame still holds the run's outputs when it collects. */
async function runForScalars(session: InferenceSession, feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, scalars: readonly string[]): Promise<Record<string, number>> {
  return pick(await session.run(feeds, fetches), scalars);
}

/**
 * Whether a whole batch's step runs as one graph, and a GRPO update's optimizer updates in one
 * onnxruntime run (looped.ts): on a GPU, where every run copies the trained values and both
 * moments in and out anyway (NOTES.md), so writing them in place (trainStep) saves nothing. Not
 * over micro-batches, which loopedSteps does not take; nor on the CPU, where a run copies nothing
 * and the state written in place is held once.
 */
function wholeGraphSteps(s: State): boolean {
  return s.device.kind === 'cuda' && s.memory.microBatchSize === undefined;
}

/**
 * The steps of trainStep, one whole batch each (`parts`), in one run of the looped step graph
 * (looped.ts); per-step metrics. The new state is kept only when every step's loss is finite:
 * otherwise the trainer stays as it was before the first step.
 */
async function loopedSteps<K extends string>(
  s: State, loss: LossAggregation | 'sft', build: (opts: StepGraphOptions) => Graph, parts: BatchPart[], ats: OptimizerStep[], metrics: readonly K[],
): Promise<Record<K, number>[]> {
  if (s.memory.microBatchSize !== undefined) {
    throw new Error('looped updates take whole batches: they do not run with runtime.memory.microBatchSize set (grpoUpdate leaves the loop out there)');
  }
  if (parts.length === 0) return [];
  const o = ats[0].optimizer;
  const other = ats.find((at) => (['beta1', 'beta2', 'weightDecay', 'gradClip'] as const).some((k) => at.optimizer[k] !== o[k]));
  if (other) throw new Error(`looped updates share one optimizer's settings: step ${other.step}'s differ from step ${ats[0].step}'s`);
  const optimizer = optimizerOf(s);
  const names = Object.keys(trained(s));
  const session = await trainSessionFor(s, `${loss}-looped`, () => loopedStepGraph(build(stepGraphOptions(s, 'whole')), names, metrics));
  const updates = parts.map(({ feeds: batch }, i) => ({ ...batch, step: scalar(optimizer.step + 1 + i), lr: scalar(learningRate(ats[i])) }));
  const out = await session.run({ ...updateFeeds(s, o), ...loopFeeds(session.inputNames, updates) });
  const losses = out.loss.data as Float32Array;
  const bad = losses.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new NonFiniteLossError(`${loss} step ${optimizer.step + 1 + bad} (update ${bad + 1} of ${parts.length} in one run): loss is ${losses[bad]}; weights left as before the first`);
  }
  keepNewState(s, out);
  optimizer.step += parts.length;
  if (s.lora) s.lora.merged = undefined;
  return parts.map((_, i) => Object.fromEntries(metrics.map((m) => [m, out[m].data[i] as number])) as Record<K, number>);
}

/**
 * What every update of a step reads besides its batch, `step` and `lr`: the model (modelFeeds),
 * both moments and AdamW's other settings.
 */
function updateFeeds(s: State, o: OptimizerStep['optimizer']): Record<string, OrtTensor> {
  const optimizer = optimizerOf(s);
  const feeds: Record<string, OrtTensor> = modelFeeds(s);
  for (const [k, v] of Object.entries({ beta1: o.beta1, beta2: o.beta2, eps: ADAM_EPS, weightDecay: o.weightDecay, gradClip: o.gradClip })) feeds[k] = scalar(v);
  for (const [name, t] of Object.entries(optimizer.m)) feeds[`m.${name}`] = new Tensor('float32', t.data, t.dims);
  for (const [name, t] of Object.entries(optimizer.v)) feeds[`v.${name}`] = new Tensor('float32', t.data, t.dims);
  return feeds;
}

/** Takes a run's `new.<name>`, `new.m.<name>` and `new.v.<name>` as the trained values and moments. */
function keepNewState(s: State, out: Record<string, OrtTensor>): void {
  const optimizer = optimizerOf(s);
  const params = trained(s);
  for (const name of Object.keys(params)) {
    const dims = params[name].dims;
    params[name] = { dims, data: out[`new.${name}`].data as Float32Array };
    optimizer.m[name] = { dims, data: out[`new.m.${name}`].data as Float32Array };
    optimizer.v[name] = { dims, data: out[`new.v.${name}`].data as Float32Array };
  }
}

/** How this trainer's step graphs are built: its memory settings, and LoRA's adapters and base. */
function stepGraphOptions(s: State, part: StepGraphOptions['part']): StepGraphOptions {
  return { part, recompute: s.memory.recompute, ...(s.lora && { lora: s.lora.config, baseInitializers: s.lora.base === 'initializers' }) };
}

/** What a train step's graphs read of the model: the weights, and with LoRA the adapters (and the base, unless the session holds it). */
function modelFeeds(s: State): Record<string, OrtTensor> {
  return { ...(!frozenBase(s) && weightFeeds(s.weights)), ...(s.lora && weightFeeds(s.lora.adapters)) };
}

/**
 * The frozen base when the train and merge sessions hold it as initializers. It never changes
 * under them: a LoRA trainer keeps the base init gave it (importState takes adapters, setWeights
 * refuses), and init starts a new state with sessions of its own.
 */
function frozenBase(s: State): NamedTensors | undefined {
  return s.lora?.base === 'initializers' ? s.weights : undefined;
}

/** What a train step updates: the weights, or with LoRA the adapters. */
function trained(s: State): NamedTensors {
  return s.lora?.adapters ?? s.weights;
}

function trainedShapes(config: ModelConfig, lora: { config: Lora } | undefined): Record<string, number[]> {
  return lora ? adapterShapes(config, lora.config) : parameterShapes(config);
}

/** The policy's weights: with LoRA, the base with every adapter merged in (computed once per step, when first asked for). */
async function policyWeights(s: State): Promise<NamedTensors> {
  const lora = s.lora;
  if (!lora) return s.weights;
  if (!lora.merged) {
    const base = frozenBase(s);
    const session = await sessionFor(s, 'lora-merge', () => mergeGraph(s.config, lora.config, !!base), base && { initializers: base });
    const adapted = session.outputNames.map((o) => o.slice('merged.'.length));
    const feeds = weightFeeds(lora.adapters);
    if (!base) for (const name of adapted) feeds[name] = new Tensor('float32', s.weights[name].data, s.weights[name].dims);
    const out = await session.run(feeds);
    const merged = { ...s.weights };
    for (const name of adapted) merged[name] = { dims: s.weights[name].dims, data: out[`merged.${name}`].data as Float32Array };
    lora.merged = merged;
  }
  return lora.merged;
}

/** The optimizer state, made the first time a step needs it. */
function optimizerOf(s: State): OptimizerState {
  s.optimizer ??= freshOptimizer(trained(s));
  return s.optimizer;
}

/** Zero moments, no steps taken. */
function freshOptimizer(weights: NamedTensors): OptimizerState {
  return { m: zerosLike(weights), v: zerosLike(weights), step: 0 };
}

function checkOptimizer(optimizer: OptimizerState, shapes: Record<string, number[]>): void {
  checkTensors('optimizer.m', optimizer.m, shapes);
  checkTensors('optimizer.v', optimizer.v, shapes);
}

async function trainSessionFor(s: State, key: string, build: () => Graph): Promise<InferenceSession> {
  const kept = s.trainSession;
  if (kept?.key === key) return kept.session;
  s.trainSession = undefined;
  if (kept) await kept.session.then((session) => session.release(), () => undefined);
  const base = frozenBase(s);
  const session = createSession(build().toModel(), s.device, base && { initializers: base });
  s.trainSession = { key, session };
  return session;
}

function sessionFor(s: State, key: string, build: () => Graph, opts: Parameters<typeof createSession>[2] = {}): Promise<InferenceSession> {
  let session = s.sessions.get(key);
  if (!session) {
    session = createSession(build().toModel(), s.device, opts);
    s.sessions.set(key, session);
  }
  return session;
}

function weightFeeds(weights: NamedTensors): Record<string, OrtTensor> {
  const feeds: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(weights)) feeds[name] = new Tensor('float32', t.data, t.dims);
  return feeds;
}

function scalar(x: number): OrtTensor {
  return new Tensor('float32', Float32Array.of(x), []);
}

function pick<K extends string>(out: Record<string, OrtTensor>, names: readonly K[]): Record<K, number> {
  return Object.fromEntries(names.map((n) => [n, out[n].data[0] as number])) as Record<K, number>;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function count(mask: OrtTensor): number {
  return (mask.data as Float32Array).reduce((a, b) => a + b, 0);
}

function checkTensors(what: string, tensors: NamedTensors, shapes: Record<string, number[]>): void {
  for (const [name, dims] of Object.entries(shapes)) {
    const t: TensorF32 | undefined = tensors[name];
    if (!t) throw new Error(`${what}: missing ${name}`);
    if (t.dims.join(',') !== dims.join(',') || t.data.length !== numel(dims)) {
      throw new Error(`${what}: ${name} has shape [${t.dims}] (${t.data.length} values), the model needs [${dims}]`);
    }
  }
  const extra = Object.keys(tensors).filter((n) => !(n in shapes));
  if (extra.length > 0) throw new Error(`${what}: unexpected tensors ${extra.join(', ')}`);
}

function zerosLike(tensors: NamedTensors): NamedTensors {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dims: [...t.dims], data: new Float32Array(t.data.length) }]));
}

function copyBytes(files: Record<string, Uint8Array>): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(files).map(([k, b]) => [k, b.slice()]));
}

function copyTensors(tensors: NamedTensors): NamedTensors {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dims: [...t.dims], data: t.data.slice() }]));
}
