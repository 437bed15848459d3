/**
 * The graphs the product runs. Batch and sequence dims are symbolic, so one session per graph
 * serves every batch. Parameters are graph inputs named as in Hugging Face safetensors; a train
 * step also takes `m.<name>`/`v.<name>` and returns `new.<name>`, `new.m.<name>`, `new.v.<name>`
 * for each trained parameter: every weight, or with LoRA only the adapters (engine/lora.ts), the
 * weights then being inputs it reads and does not differentiate, or the session's initializers
 * (StepGraphOptions.baseInitializers).
 *
 * Batch inputs (B sequences right-padded to T):
 *   ids, targets, positions [B, T] int32 (targets[t] = ids[t+1]); attentionMask, lossMask [B, T] float.
 *
 * A train step on the CPU, and any over micro-batches (gradient accumulation), runs two graphs
 * instead: the step graph cut at the gradient (`part: 'gradient'`), once per micro-batch, then
 * applyGraph once per group of parameters (trainer.ts, trainStep).
 */
import type { LossAggregation } from '../schemas/grpo';
import type { Lora } from '../schemas/lora';
import type { ModelConfig } from '../schemas/model';
import type { Memory } from '../schemas/runtime';
import { gradients } from './autodiff';
import { GRPO_LOSS_SCALARS, GrpoLossScalar, GrpoOutputs, grpoLoss, maskedMean, sftLoss, tokenLogprobs } from './losses';
import { adapterInputs, adapterShapes } from './lora';
import { headDim, cachedDecoder, decoder, lmHead, lmHeadWeight, parameterInitializers, parameterInputs, parameterShapes, KeyValueCache, type DecoderOptions } from './model';
import { FloatType, Graph, Value } from './onnx/builder';
import { adamW } from './optimizer';
import { samplingHead } from './sampling-head';

/** Hyperparameter inputs of every train step (rank-0 floats). */
export const ADAMW_INPUTS = ['step', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'gradClip'] as const;
export const SFT_METRICS = ['loss', 'gradNorm'] as const;
export const GRPO_METRICS = ['loss', 'gradNorm', 'kl', 'clipLow', 'clipHigh', 'entropy'] as const;

function sequenceInputs(g: Graph) {
  return {
    ids: g.input('ids', 'int32', ['B', 'T']),
    targets: g.input('targets', 'int32', ['B', 'T']),
    positions: g.input('positions', 'int32', ['B', 'T']),
    attentionMask: g.input('attentionMask', g.float, ['B', 'T']),
  };
}

/**
 * What a train-step graph computes. `whole`: the loss, its gradient and the AdamW update. `gradient`:
 * the gradient of `lossWeight` x the loss added to the `grad.<name>` inputs, as `new.grad.<name>`,
 * and the norm of that sum, `gradNorm` (and the loss and metrics unweighted). `recompute`: what the
 * backward pass computes again instead of keeping it (runtime.memory.recompute; model.ts).
 */
export interface StepGraphOptions {
  part: 'whole' | 'gradient';
  recompute: Memory['recompute'];
  /** Train low-rank adapters of the frozen weights instead of the weights (trainedInputs). */
  lora?: Lora;
  /**
   * With `lora`: the frozen weights as session initializers, given once when the session is made
   * (createSession's `initializers`), instead of inputs of every run. On CUDA every run copies its
   * inputs to the GPU, so the base would cross PCIe each step; on the CPU onnxruntime keeps
   * copies of its initializers, so the base is held more than once (trainer.ts chooses by device).
   */
  baseInitializers?: boolean;
}

const WHOLE_STEP: StepGraphOptions = { part: 'whole', recompute: 'none' };

/** Model forward up to per-target log-probs (and per-position entropies, when asked for). */
function forward(g: Graph, cfg: ModelConfig, params: Record<string, Value>, s: ReturnType<typeof sequenceInputs>, entropy = false, layers: DecoderOptions = {}) {
  const { hidden } = decoder(g, cfg, params, s, layers);
  return tokenLogprobs(g, hidden, lmHeadWeight(cfg, params), s.targets, entropy);
}

/** logprobs [B, T]: log p(targets[t] | ids[<=t]). For old and reference policies. */
export function logprobsGraph(cfg: ModelConfig, float: FloatType = 'float32'): Graph {
  const g = new Graph(float);
  const params = parameterInputs(g, cfg);
  g.output(forward(g, cfg, params, sequenceInputs(g)).logprobs, 'logprobs');
  return g;
}

/**
 * One generation step over a preallocated KV cache (see generate.ts): takes T new tokens per row
 * (the whole prompt for the prefill) and S cache slots, and returns the logits of the last
 * position [B, V] and each layer's keys and values of the new tokens only, `new.<i>.key`
 * [B, kvHeads, headDim, T] (transposed, the cache's key layout) and `new.<i>.value`
 * [B, kvHeads, T, headDim], and what sampling needs of the logits, `weights` and
 * `logNormaliser` (sampling-head.ts). Inputs: ids, positions [B, T] int32; temperature, a
 * rank-0 float; pastBias [B, S] and newBias [B, T, T], additive (0 visible, -1e9 hidden); `past.<i>.key` [B, kvHeads, headDim, S]
 * and `past.<i>.value` [B, kvHeads, S, headDim]. The caller writes the new keys and values into
 * its buffers, so no step copies the cache.
 */
export function decodeGraph(cfg: ModelConfig, float: FloatType = 'float32'): Graph {
  const g = new Graph(float);
  const params = parameterInputs(g, cfg);
  const hd = headDim(cfg);
  const ids = g.input('ids', 'int32', ['B', 'T']);
  const positions = g.input('positions', 'int32', ['B', 'T']);
  const pastBias = g.input('pastBias', float, ['B', 'S']);
  const newBias = g.input('newBias', float, ['B', 'T', 'T']);
  const past: KeyValueCache[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    past.push({
      keyT: g.input(`past.${i}.key`, float, ['B', cfg.numKvHeads, hd, 'S']),
      value: g.input(`past.${i}.value`, float, ['B', cfg.numKvHeads, 'S', hd]),
    });
  }
  const { hidden, fresh } = cachedDecoder(g, cfg, params, { ids, positions, pastBias, newBias, past });
  const logits = g.output(g.squeeze(lmHead(g, cfg, params, g.slice(hidden, 1, -1)), 1), 'logits');
  samplingHead(g, logits, g.input('temperature', float, []));
  fresh.forEach((kv, i) => {
    g.output(kv.keyT, `new.${i}.key`); // named so by cachedDecoder: no Identity copy
    g.output(kv.value, `new.${i}.value`);
  });
  return g;
}

/** SFT step: masked token cross-entropy, its gradient and an AdamW update (see StepGraphOptions). */
export function sftStepGraph(cfg: ModelConfig, opts: StepGraphOptions = WHOLE_STEP, float: FloatType = 'float32'): Graph {
  const g = new Graph(float);
  const { params, trained, adapters } = trainedInputs(g, cfg, opts);
  const s = sequenceInputs(g);
  const lossMask = g.input('lossMask', float, ['B', 'T']);
  const loss = sftLoss(g, forward(g, cfg, params, s, false, { adapters, recompute: opts.recompute }).logprobs, lossMask);
  backward(g, trained, loss, opts.part);
  g.output(loss, 'loss');
  return g;
}

/** GRPO step: clipped surrogate + k3 KL with the given aggregation, gradient, AdamW update (see StepGraphOptions). */
export function grpoStepGraph(cfg: ModelConfig, aggregation: LossAggregation, opts: StepGraphOptions = WHOLE_STEP, float: FloatType = 'float32'): Graph {
  const g = new Graph(float);
  const { params, trained, adapters } = trainedInputs(g, cfg, opts);
  const s = sequenceInputs(g);
  const mask = g.input('lossMask', float, ['B', 'T']);
  const oldLogprobs = g.input('oldLogprobs', float, ['B', 'T']);
  const refLogprobs = g.input('refLogprobs', float, ['B', 'T']);
  const advantages = g.input('advantages', float, ['B']);
  const scalars = Object.fromEntries(GRPO_LOSS_SCALARS.map((n) => [n, g.input(n, float, [])] as const)) as Record<GrpoLossScalar, Value>;
  const { logprobs, entropy } = forward(g, cfg, params, s, true, { adapters, recompute: opts.recompute });
  const sequences = g.sumAll(g.reduceMax(s.attentionMask, [1]));
  const out: GrpoOutputs = grpoLoss(g, { logprobs, oldLogprobs, refLogprobs, advantages, mask, sequences, ...scalars }, aggregation);
  backward(g, trained, out.loss, opts.part);
  g.output(out.loss, 'loss');
  g.output(out.kl, 'kl');
  g.output(out.clipLow, 'clipLow');
  g.output(out.clipHigh, 'clipHigh');
  g.output(maskedMean(g, entropy!, mask), 'entropy');
  return g;
}

/** The model's weights, and what a step trains: the weights themselves, or with LoRA the adapters. */
function trainedInputs(g: Graph, cfg: ModelConfig, { lora, baseInitializers }: StepGraphOptions) {
  const params = lora && baseInitializers ? parameterInitializers(g, cfg) : parameterInputs(g, cfg);
  if (!lora) return { params, trained: params, adapters: {} };
  const { tensors, adapters } = adapterInputs(g, cfg, lora);
  return { params, trained: tensors, adapters };
}

/**
 * The parameters an update after the gradient graph applies one group at a time, so that what a run
 * holds beside the state (its temporaries, and the copies of its outputs that onnxruntime-node
 * returns) is one group's: for a 0.5B model, the whole model's would be 6 GB. `layer`: one decoder layer, under
 * layer 0's names (all layers are alike, so one graph and session serve them all); `rest`: the
 * embedding, the final norm and an untied head.
 */
export type ApplyGroup = 'layer' | 'rest' | 'adapters';

/** Each group's graph input names and, per run, the parameters fed under them. With LoRA: the adapters, in one group (they are small). */
export function applyGroups(cfg: ModelConfig, lora?: Lora): { group: ApplyGroup; inputs: string[]; runs: string[][] }[] {
  if (lora) {
    const adapters = Object.keys(adapterShapes(cfg, lora));
    return [{ group: 'adapters', inputs: adapters, runs: [adapters] }];
  }
  const names = Object.keys(parameterShapes(cfg));
  const layer = (i: number) => names.filter((n) => n.startsWith(`model.layers.${i}.`));
  return [
    { group: 'layer', inputs: layer(0), runs: Array.from({ length: cfg.numLayers }, (_, i) => layer(i)) },
    { group: 'rest', inputs: names.filter((n) => !n.startsWith('model.layers.')), runs: [names.filter((n) => !n.startsWith('model.layers.'))] },
  ];
}

/**
 * The AdamW update of one group of parameters (applyGroups) from accumulated gradients
 * `grad.<name>`, clipped by the whole model's `gradNorm` (an input): the end of a step that
 * ran the gradient graph. The trainer has `new.<name>`, `new.m.<name>` and `new.v.<name>` written into
 * the buffers of `<name>`, `m.<name>` and `v.<name>`: safe, because each of those inputs is
 * read only by nodes its own new value depends on (adamW), so all its reads come before that
 * write. The same holds for `new.grad.<name>` and `grad.<name>` in the gradient graph (backward).
 */
export function applyGraph(cfg: ModelConfig, group: ApplyGroup, lora?: Lora, float: FloatType = 'float32'): Graph {
  const g = new Graph(float);
  const shapes = lora ? adapterShapes(cfg, lora) : parameterShapes(cfg);
  const names = applyGroups(cfg, lora).find((x) => x.group === group)!.inputs;
  const params = Object.fromEntries(names.map((n) => [n, g.input(n, float, shapes[n])]));
  optimizerStep(g, params, names.map((n) => g.input(`grad.${n}`, float, shapes[n])), g.input('gradNorm', float, []));
  return g;
}

/** The gradient of `loss` and what `part` does with it (see StepGraphOptions). */
function backward(g: Graph, params: Record<string, Value>, loss: Value, part: StepGraphOptions['part']): void {
  const names = Object.keys(params);
  if (part === 'whole') {
    optimizerStep(g, params, gradients(g, loss, names.map((n) => params[n])));
    return;
  }
  const grads = gradients(g, g.mul(loss, g.input('lossWeight', g.float, [])), names.map((n) => params[n]));
  // Made under the output's name: an Identity to it would copy every gradient once more.
  const sums = names.map((n, i) => g.emit('Add', [g.input(`grad.${n}`, g.float, params[n].dims), grads[i]], {}, g.float, params[n].dims, `new.grad.${n}`));
  sums.forEach((x) => g.output(x, x.name));
  const squares = sums.map((x) => g.emit('ReduceSumSquare', [x], { keepdims: { kind: 'int', value: 0 } }, x.dtype, []));
  g.output(g.sqrt(squares.reduce((a, b) => g.add(a, b))), 'gradNorm');
}

/** AdamW from the gradients (in the order of `params`), and the `new.*` outputs; and `gradNorm`, unless given. */
function optimizerStep(g: Graph, params: Record<string, Value>, grads: Value[], givenNorm?: Value): void {
  const names = Object.keys(params);
  const [step, lr, beta1, beta2, eps, weightDecay, gradClip] = ADAMW_INPUTS.map((n) => g.input(n, g.float, []));
  const slots = names.map((n, i) => ({
    param: params[n],
    grad: grads[i],
    m: g.input(`m.${n}`, g.float, params[n].dims),
    v: g.input(`v.${n}`, g.float, params[n].dims),
    decay: params[n].dims.length === 2,
  }));
  const { updated, gradNorm } = adamW(g, slots, { step, lr, beta1, beta2, eps, weightDecay, gradClip, gradNorm: givenNorm });
  updated.forEach((u, i) => {
    g.output(u.param, `new.${names[i]}`);
    g.output(u.m, `new.m.${names[i]}`);
    g.output(u.v, `new.v.${names[i]}`);
  });
  if (!givenNorm) g.output(gradNorm, 'gradNorm');
}
