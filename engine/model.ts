/**
 * A Llama/Qwen2-style decoder as ONNX nodes: token embedding, then per layer
 * x + attn(rmsnorm(x)) and x + mlp(rmsnorm(x)) with rotary positions, grouped-query causal
 * attention and a SwiGLU MLP, then a final RMSNorm and the LM head. Parameter names and layouts
 * are those of Hugging Face safetensors, so checkpoints load without renaming.
 */
import type { ModelConfig } from '../schemas/model';
import type { Memory } from '../schemas/runtime';
import { after, recomputed } from './autodiff';
import { chunks, concat, slice, sliceChunk } from './chunks';
import { sumTo } from './grad-rules';
import { Dim, Graph, Value } from './onnx/builder';
import { dimProduct } from './onnx/shape';
import { Rng } from './rng';
import { NamedTensors, numel } from './tensors';

export function headDim(cfg: ModelConfig): number {
  return cfg.headDim ?? cfg.hiddenSize / cfg.numHeads;
}

/** Every parameter of the model and its shape ([out, in] for projections, as in PyTorch). */
export function parameterShapes(cfg: ModelConfig): Record<string, number[]> {
  const d = cfg.hiddenSize;
  const qDim = cfg.numHeads * headDim(cfg);
  const kvDim = cfg.numKvHeads * headDim(cfg);
  const shapes: Record<string, number[]> = { 'model.embed_tokens.weight': [cfg.vocabSize, d] };
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes[p + 'input_layernorm.weight'] = [d];
    shapes[p + 'self_attn.q_proj.weight'] = [qDim, d];
    shapes[p + 'self_attn.k_proj.weight'] = [kvDim, d];
    shapes[p + 'self_attn.v_proj.weight'] = [kvDim, d];
    if (cfg.qkvBias) {
      shapes[p + 'self_attn.q_proj.bias'] = [qDim];
      shapes[p + 'self_attn.k_proj.bias'] = [kvDim];
      shapes[p + 'self_attn.v_proj.bias'] = [kvDim];
    }
    if (cfg.qkNorm) {
      shapes[p + 'self_attn.q_norm.weight'] = [headDim(cfg)];
      shapes[p + 'self_attn.k_norm.weight'] = [headDim(cfg)];
    }
    shapes[p + 'self_attn.o_proj.weight'] = [d, qDim];
    shapes[p + 'post_attention_layernorm.weight'] = [d];
    shapes[p + 'mlp.gate_proj.weight'] = [cfg.intermediateSize, d];
    shapes[p + 'mlp.up_proj.weight'] = [cfg.intermediateSize, d];
    shapes[p + 'mlp.down_proj.weight'] = [d, cfg.intermediateSize];
  }
  shapes['model.norm.weight'] = [d];
  if (!cfg.tieEmbeddings) shapes['lm_head.weight'] = [cfg.vocabSize, d];
  return shapes;
}

/** Fresh weights: N(0, 0.02) matrices (as HF's initializer_range), unit norm gains, zero biases. */
export function initParameters(cfg: ModelConfig, seed: number): NamedTensors {
  const rng = new Rng(seed);
  const out: NamedTensors = {};
  for (const [name, dims] of Object.entries(parameterShapes(cfg))) {
    const data = new Float32Array(numel(dims));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = 0.02 * gaussian(rng);
    out[name] = { dims, data };
  }
  return out;
}

function gaussian(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Declares every parameter as a graph input of the graph's float type. */
export function parameterInputs(g: Graph, cfg: ModelConfig): Record<string, Value> {
  const params: Record<string, Value> = {};
  for (const [name, dims] of Object.entries(parameterShapes(cfg))) params[name] = g.input(name, g.float, dims);
  return params;
}

/** The parameters as constants the session is given once, when it is made (Graph.external), instead of inputs of every run. */
export function parameterInitializers(g: Graph, cfg: ModelConfig): Record<string, Value> {
  return Object.fromEntries(Object.entries(parameterShapes(cfg)).map(([name, dims]) => [name, g.external(name, g.float, dims)]));
}

export interface DecoderInputs {
  /** Token ids [B, T] (int32). */
  ids: Value;
  /** Position of each token [B, T] (int32): its index among the sequence's unpadded tokens. */
  positions: Value;
  /** 1 for real tokens, 0 for padding [B, T] (float). */
  attentionMask: Value;
}

/**
 * LoRA adapters of some projections, by the projection's module name (`model.layers.0.self_attn.q_proj`):
 * A [rank, in], B [out, rank] and the scale alpha / rank (engine/lora.ts makes them).
 */
export type Adapters = Record<string, LoraAdapter>;
export interface LoraAdapter {
  a: Value;
  b: Value;
  scale: number;
}

/**
 * How the decoder's layers run. `adapters`: the projections they name add their low-rank update
 * (loraUpdate). `recompute` (runtime.memory.recompute): `layers`: each layer keeps only its input
 * for the backward pass and runs again there (autodiff.ts, `recomputed`), for about one more
 * forward pass: a d=256, 16-layer model's SFT step at B=8 T=512 peaked at 3.65 GB RSS without
 * and 0.86 GB with; `attention`: only the attention probabilities are computed again (attend).
 */
export interface DecoderOptions {
  adapters?: Adapters;
  recompute?: Memory['recompute'];
}

/** The decoder up to and including the final norm: hidden states [B, T, d]. */
export function decoder(g: Graph, cfg: ModelConfig, p: Record<string, Value>, inputs: DecoderInputs, opts: DecoderOptions = {}): { hidden: Value } {
  const { ids, positions, attentionMask } = inputs;
  const adapters = opts.adapters ?? {};
  const rope = rotaryTables(g, cfg, positions);
  const attn: Attention = { blocks: queryBlocks(g, ids.dims[1], attentionBias(g, ids, attentionMask)), recomputeProbs: opts.recompute === 'attention' };
  let h = g.gather(p['model.embed_tokens.weight'], ids);
  for (let i = 0; i < cfg.numLayers; i++) {
    const pre = `model.layers.${i}.`;
    const layer = (x: Value, lp: Record<string, Value>) => decoderLayer(g, cfg, lp, projector(g, lp, adapters), pre, x, rope, attn);
    const lp = layerInputs(p, adapters, pre);
    h = opts.recompute === 'layers' ? recomputed(g, 'DecoderLayer', h, lp, layer) : layer(h, lp);
  }
  return { hidden: rmsNorm(g, cfg, h, p['model.norm.weight']) };
}

/**
 * What layer `pre` reads: its parameters, and its projections' adapters under their own names,
 * so that a recomputed layer differentiates them too.
 */
function layerInputs(p: Record<string, Value>, adapters: Adapters, pre: string): Record<string, Value> {
  const out = Object.fromEntries(Object.entries(p).filter(([name]) => name.startsWith(pre)));
  for (const [name, { a, b }] of Object.entries(adapters)) if (name.startsWith(pre)) Object.assign(out, { [a.name]: a, [b.name]: b });
  return out;
}

/** x through the named projection (`model.layers.0.mlp.up_proj`): its weight, bias and adapter if any. */
type Project = (x: Value, name: string) => Value;

/** The projections of a layer whose inputs are `lp` (layerInputs). */
function projector(g: Graph, lp: Record<string, Value>, adapters: Adapters): Project {
  return (x, name) => {
    const y = linear(g, x, lp[name + '.weight'], lp[name + '.bias']);
    const adapter = adapters[name];
    // The layer's own copies (a recomputed layer's are aliases of the adapters).
    return adapter ? g.add(y, loraUpdate(g, x, { a: lp[adapter.a.name], b: lp[adapter.b.name], scale: adapter.scale })) : y;
  };
}

/** h + attn(rmsnorm(h)), then the same + mlp(rmsnorm(...)). */
function decoderLayer(
  g: Graph, cfg: ModelConfig, p: Record<string, Value>, project: Project, pre: string, h: Value, rope: Rotary, attn: Attention,
): Value {
  const mid = g.add(h, attention(g, cfg, p, project, pre + 'self_attn.', rmsNorm(g, cfg, h, p[pre + 'input_layernorm.weight']), rope, attn));
  const x = rmsNorm(g, cfg, mid, p[pre + 'post_attention_layernorm.weight']);
  const gate = silu(g, project(x, pre + 'mlp.gate_proj'));
  return g.add(mid, project(g.mul(gate, project(x, pre + 'mlp.up_proj')), pre + 'mlp.down_proj'));
}

/**
 * The adapter's part of a LoRA linear layer, scale (x A^T) B^T, as PEFT computes it: through the
 * rank-r activations, so no [out, in] product B A is formed and, with W frozen, no [out, in]
 * gradient either. x W^T + loraUpdate(x) is the layer with W + scale B A.
 */
export function loraUpdate(g: Graph, x: Value, adapter: LoraAdapter): Value {
  const down = g.mul(g.matmul(x, g.transposeLast(adapter.a)), g.scalar(adapter.scale));
  return g.matmul(down, g.transposeLast(adapter.b));
}

/** Logits [..., V] from final hidden states [..., d]. */
export function lmHead(g: Graph, cfg: ModelConfig, p: Record<string, Value>, hidden: Value): Value {
  return linear(g, hidden, lmHeadWeight(cfg, p));
}

/** The lm head's weight [V, d]: the embedding's when they are tied. */
export function lmHeadWeight(cfg: ModelConfig, p: Record<string, Value>): Value {
  return p[cfg.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'];
}

/** x @ W^T (+ b), W stored [out, in]. */
function linear(g: Graph, x: Value, w: Value, b?: Value): Value {
  const y = g.matmul(x, g.transposeLast(w));
  return b ? g.add(y, b) : y;
}

/**
 * x * sigmoid(x) as one op for autodiff, with silu'(x) = s + y (1 - s) (s = sigmoid(x), y = silu(x)):
 * four passes over the MLP's widest activations where the Mul and Sigmoid rules take six.
 */
function silu(g: Graph, x: Value): Value {
  let s: Value | undefined;
  let y: Value | undefined;
  const body = () => {
    s = g.sigmoid(x);
    y = g.mul(x, s);
    return y;
  };
  return g.composite('Silu', [x], body, (dy) => [g.mul(dy, g.add(s!, g.sub(y!, g.mul(y!, s!))))]);
}

/**
 * x / rms(x) * w as one op for autodiff: with r = 1/rms(x), xhat = x r and gx = dy w,
 * dx = r (gx - xhat mean(gx xhat)) and dw = sum(dy xhat): six passes over the hidden states in
 * the backward where the per-op rules take ten (x is used three times, the mean's gradient is an
 * Expand and a Div, and the paths' gradients are added up).
 */
function rmsNorm(g: Graph, cfg: ModelConfig, x: Value, w: Value): Value {
  let r: Value | undefined;
  let xhat: Value | undefined;
  const body = () => {
    const meanSquare = g.reduceMean(g.mul(x, x), [-1], true);
    r = g.reciprocal(g.sqrt(g.add(meanSquare, g.scalar(cfg.rmsNormEps))));
    xhat = g.mul(x, r);
    return g.mul(xhat, w);
  };
  return g.composite('RMSNorm', [x, w], body, (dy) => {
    const gx = g.mul(dy, w);
    const dx = g.mul(g.sub(gx, g.mul(xhat!, g.reduceMean(g.mul(gx, xhat!), [-1], true))), r!);
    return [dx, sumTo(g, g.mul(dy, xhat!), w.dims)];
  });
}

/**
 * Qwen3's q/k norm: an RMSNorm over each head of the q or k projection ([B, T, heads, hd]),
 * before the rotation. `projection` is the layer's `...self_attn.q_proj` or `...k_proj`.
 */
function headNorm(
  g: Graph, cfg: ModelConfig, p: Record<string, Value>, projection: string, y: Value,
  norm: (g: Graph, cfg: ModelConfig, x: Value, w: Value) => Value,
): Value {
  const normed = cfg.qkNorm && /\.[qk]_proj$/.test(projection);
  return normed ? norm(g, cfg, y, p[projection.replace(/_proj$/, '_norm') + '.weight']) : y;
}

interface Rotary {
  cos: Value; // [B, T, 1, headDim], broadcast over heads
  sin: Value;
}

/**
 * The rotary inverse frequencies: theta^(-2i/hd), with Llama 3's scaling when the config has it
 * (transformers' _compute_llama3_parameters: wavelengths beyond the original context are slowed
 * by `factor`, short ones kept, the band between interpolated).
 */
export function rotaryInverseFrequencies(cfg: ModelConfig): number[] {
  const hd = headDim(cfg);
  const base = Array.from({ length: hd / 2 }, (_, i) => 1 / cfg.ropeTheta ** ((2 * i) / hd));
  const s = cfg.ropeScaling;
  if (!s) return base;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/** cos/sin of position * inverse frequency, the two halves repeated (HF's rotate_half layout). */
function rotaryTables(g: Graph, cfg: ModelConfig, positions: Value): Rotary {
  const hd = headDim(cfg);
  const invFreq = rotaryInverseFrequencies(cfg);
  const angles = g.mul(g.unsqueeze(g.cast(positions, g.float), -1), g.constant(invFreq, g.float, [hd / 2]));
  const full = g.unsqueeze(g.concat([angles, angles], -1), 2);
  return { cos: g.cos(full), sin: g.sin(full) };
}

/** The tables times `s`: rotating by them rotates and scales in the same two multiplications. */
function scaledRotary(g: Graph, r: Rotary, s: number): Rotary {
  return { cos: g.mul(r.cos, g.scalar(s)), sin: g.mul(r.sin, g.scalar(s)) };
}

/**
 * x * cos + rotate_half(x) * sin. rotate_half(x) = concat(-x2, x1) is a product with a signed
 * permutation matrix: one small GEMM forward and one backward, where slices, a negation and a
 * concat would cost several passes over x and their gradients (pads) several more.
 */
function applyRotary(g: Graph, x: Value, r: Rotary): Value {
  return g.add(g.mul(x, r.cos), g.mul(g.matmul(x, rotateHalfMatrix(g, x.dims.at(-1) as number)), r.sin));
}

function rotateHalfMatrix(g: Graph, hd: number): Value {
  const half = hd / 2;
  const m = new Array<number>(hd * hd).fill(0);
  for (let j = 0; j < half; j++) {
    m[(j + half) * hd + j] = -1; // out[j] = -x[j + half]
    m[j * hd + j + half] = 1; // out[j + half] = x[j]
  }
  return g.constant(m, g.float, [hd, hd]);
}

/**
 * Additive attention bias [B, 1, 1, T, T]: 0 where query t may see key k (k <= t, not padding),
 * -1e9 elsewhere. A large finite value, not -inf, keeps rows of padding queries (which see
 * nothing) free of NaN.
 */
function attentionBias(g: Graph, ids: Value, attentionMask: Value): Value {
  const T = ids.dims[1];
  const index = g.range(g.reshape(g.dimValue(T), []), T);
  const causal = g.lessOrEqual(g.unsqueeze(index, 0), g.unsqueeze(index, 1)); // [T, T]
  const notPad = g.unsqueeze(g.greater(attentionMask, g.scalar(0.5)), 1); // [B, 1, T]
  const visible = g.and(causal, notPad); // [B, T, T]
  return g.unsqueeze(g.unsqueeze(g.where(visible, g.scalar(0), g.scalar(-1e9)), 1), 1);
}

/** A run of query positions and the keys they attend to: the first `keys` positions. */
interface QueryBlock {
  rows: Dim;
  keys: Dim;
  /** Bounds of the rows as int64 [1] values for Slice. */
  start: Value;
  end: Value;
  /** The attention bias of these rows and keys, [B, 1, 1, rows, keys]. */
  bias: Value;
}

/** How a decoder's layers attend: by blocks of query rows, and whether the backward pass computes their probabilities again (attend). */
interface Attention {
  blocks: QueryBlock[];
  recomputeProbs: boolean;
}

/**
 * Causal attention by blocks of query rows: block i of n (positions ceil(iT/n) to ceil((i+1)T/n))
 * sees only the keys up to its last row, so the scores of all but the last block are narrower
 * than [rows, T]: (n-1)/2n of every T x T product and pass (scores, softmax, their gradients) is
 * skipped, for copies of the much smaller q, k and v (slices, and a concat and pads of their
 * gradients). In profiles of the bench's small config (seq 256) the attention took about 18%
 * less time with two blocks than with none, 25% with four and 14% with eight. The bounds are
 * computed at run time, so T stays symbolic. Exact for every query that sees some key; one that
 * sees none (left padding) now averages its block's keys instead of all of them, and such a
 * position only ever feeds other padding positions, which the losses mask out.
 */
function queryBlocks(g: Graph, T: Dim, bias: Value, n = 4): QueryBlock[] {
  return chunks(g, T, n).map((c) => {
    const rowBias = sliceChunk(g, bias, 3, c);
    return { rows: c.size, keys: c.end, start: c.startValue, end: c.endValue, bias: c.end === T ? rowBias : slice(g, rowBias, 4, g.ints([0]), c.endValue, c.end) };
  });
}

function attention(
  g: Graph, cfg: ModelConfig, p: Record<string, Value>, project: Project, pre: string,
  x: Value, rope: Rotary, attn: Attention,
): Value {
  const [B, T] = x.dims;
  const hd = headDim(cfg);
  const kvHeads = cfg.numKvHeads;
  // Rotated in the projection's layout [B, T, heads, hd]: every transpose of q, k and v (to
  // heads-major for the products, or further to [.., hd, T] for transposed operands) is then one
  // explicit copy from that layout, which onnxruntime cannot fold into its transposed-operand
  // MatMul (FusedMatMul): that one measured 2-3x slower on these batched products.
  const rows = (name: string, n: number, r?: Rotary) => {
    const y = headNorm(g, cfg, p, pre + name, g.reshape(project(x, pre + name), [B, T, n, hd]), rmsNorm);
    return r ? applyRotary(g, y, r) : y;
  };
  // The 1/sqrt(hd) score scale goes into q's rotary tables: [T, hd] per row instead of [T, K] per head.
  const q = rows('q_proj', cfg.numHeads, scaledRotary(g, rope, 1 / Math.sqrt(hd)));
  const k = g.transpose(rows('k_proj', kvHeads, rope), [0, 2, 1, 3]); // [B, kv, T, hd]
  const v = g.transpose(rows('v_proj', kvHeads), [0, 2, 1, 3]);
  return project(attend(g, q, k, v, attn, kvHeads), pre + 'o_proj');
}

/**
 * Attention for q [B, T, heads, hd] (rotated and scaled) and k and v [B, kv, T, hd], by blocks
 * of query rows (see queryBlocks); returns the heads merged, [B, T, heads*hd]. Grouped-query
 * attention without copying keys: the `group` query heads sharing a kv head (head h uses kv head
 * floor(h / group), as HF's repeat_kv) are stacked along the rows, so each (batch, kv head) is
 * one plain GEMM: [group*rows, hd] x [hd, keys]. One op for autodiff. With `recomputeProbs` its
 * backward pass computes each block's probabilities again from q and k, as FlashAttention's (and
 * PyTorch's scaled_dot_product_attention's) does, instead of keeping them: they are the one
 * activation that grows with T², [B, heads, T, T] per layer (SmolLM2 at 8 x 512: 1.4 GB over its
 * 30 layers, kept until the backward pass reached them), for one more q·kᵀ product and softmax
 * per block, 3-5% of a step at the bench's small config (T=256). The gradient takes the softmax
 * backward's row sums from rowsum(dctx * ctx), a pass over [group*rows, hd], not
 * rowsum(dprobs * probs) over [group*rows, keys] (FlashAttention's D), and forms dk and dv
 * transposed, as plain products of explicitly transposed small operands (see `rows` in
 * attention()).
 */
function attend(g: Graph, q: Value, k: Value, v: Value, { blocks, recomputeProbs }: Attention, kvHeads: number): Value {
  const [B, T, heads, hd] = q.dims as [Dim, Dim, number, number];
  const group = heads / kvHeads;
  // The first `b.keys` keys, along `axis` of k, v or their transposes.
  const keys = (b: QueryBlock, x: Value, axis: number) => (b.keys === T ? x : slice(g, x, axis, g.ints([0]), g.dimValue(b.keys), b.keys));
  const kT = g.transposeLast(k); // [B, kv, hd, T]
  // Block b's softmax(q kᵀ + bias) for its query rows qb, [B, kv, group*rows, keys].
  const probsOf = (b: QueryBlock, qb: Value) => {
    const scores = g.reshape(g.matmul(stackHeads(g, qb, kvHeads, false), keys(b, kT, 3)), [B, kvHeads, group, b.rows, b.keys]);
    return g.reshape(g.softmax(g.add(scores, b.bias), -1), [B, kvHeads, dimProduct([group, b.rows]), b.keys]);
  };
  const saved: { q: Value; probs: Value; ctx: Value }[] = [];
  const body = () => {
    const merged = blocks.map((b) => {
      const qb = slice(g, q, 1, b.start, b.end, b.rows);
      const probs = probsOf(b, qb);
      const ctx = g.matmul(probs, keys(b, v, 2));
      saved.push({ q: qb, probs, ctx });
      return mergeHeads(g, ctx, B, b.rows, group);
    });
    return concat(g, merged, 1, T);
  };
  return g.composite('Attention', [q, k, v, ...blocks.map((b) => b.bias)], body, (dMerged) => {
    const dHeads = g.reshape(dMerged, [B, T, heads, hd]);
    const vT = g.transposeLast(v);
    const grads = blocks.map((b, i) => {
      const { q: qb, ctx } = saved[i];
      const dH = slice(g, dHeads, 1, b.start, b.end, b.rows);
      const dctx = stackHeads(g, dH, kvHeads, false);
      // Computed again only once the gradient has reached the layer (after: see autodiff.ts; not
      // after dctx, which is empty for a block of no rows).
      const probs = recomputeProbs ? probsOf(b, after(g, qb, [dMerged])) : saved[i].probs;
      const rowSums = g.reduceSum(g.mul(dctx, ctx), [-1], true);
      const dScores = g.mul(probs, g.sub(g.matmul(dctx, keys(b, vT, 3)), rowSums));
      return {
        dq: mergeHeads(g, g.matmul(dScores, keys(b, k, 2)), B, b.rows, group),
        dkT: g.matmul(stackHeads(g, qb, kvHeads, true), dScores),
        dvT: g.matmul(stackHeads(g, dH, kvHeads, true), probs),
      };
    });
    // Block i's [.., hd, keys_i] gradients, summed over keys_0 <= keys_1 <= ... = T: each sum so
    // far is padded to the next block's keys, not every block's to T.
    const sum = (xs: Value[]) => xs.reduce((acc, x) => g.add(padTo(g, acc, x.dims.at(-1)!), x));
    const dq = g.reshape(concat(g, grads.map((d) => d.dq), 1, T), [B, T, heads, hd]);
    const dk = g.transposeLast(sum(grads.map((d) => d.dkT)));
    const dv = g.transposeLast(sum(grads.map((d) => d.dvT)));
    return [dq, dk, dv, ...blocks.map(() => undefined)];
  });
}

/** Zeros appended along the last axis up to `size` entries. */
function padTo(g: Graph, x: Value, size: Dim): Value {
  const rank = x.dims.length;
  if (x.dims[rank - 1] === size) return x;
  const extra = g.sub(g.dimValue(size), g.dimValue(x.dims[rank - 1]));
  const pads = g.emit('Concat', [g.ints(new Array<number>(2 * rank - 1).fill(0)), extra], { axis: { kind: 'int', value: 0 } }, 'int64', [2 * rank]);
  return g.emit('Pad', [x, pads], {}, x.dtype, x.dims.map((d, i) => (i === rank - 1 ? size : d)));
}

/** [B, T, kv*group, hd] -> [B, kv, group*T, hd], or [B, kv, hd, group*T] when `transposed`. */
function stackHeads(g: Graph, x: Value, kvHeads: number, transposed: boolean): Value {
  const [B, T, heads, hd] = x.dims as [Dim, Dim, number, number];
  const group = heads / kvHeads;
  if (group === 1) return g.transpose(x, transposed ? [0, 2, 3, 1] : [0, 2, 1, 3]); // 4-D copies are the fast ones
  const split = g.reshape(x, [B, T, kvHeads, group, hd]);
  const rows = dimProduct([group, T]);
  return transposed
    ? g.reshape(g.transpose(split, [0, 2, 4, 3, 1]), [B, kvHeads, hd, rows])
    : g.reshape(g.transpose(split, [0, 2, 3, 1, 4]), [B, kvHeads, rows, hd]);
}

/** [B, kv, group*T, hd] -> [B, T, kv*group*hd], the inverse of stackHeads. */
function mergeHeads(g: Graph, x: Value, B: Dim, T: Dim, group: number): Value {
  const [, kvHeads, , hd] = x.dims as [Dim, number, Dim, number];
  const perHead = group === 1 ? g.transpose(x, [0, 2, 1, 3]) : g.transpose(g.reshape(x, [B, kvHeads, group, T, hd]), [0, 3, 1, 2, 4]);
  return g.reshape(perHead, [B, T, kvHeads * group * hd]);
}

/** One layer's cache as the decode graph takes it (see `cachedDecoder`). */
export interface KeyValueCache {
  /** Keys of earlier tokens, rotary applied, transposed: [B, numKvHeads, headDim, S]. */
  keyT: Value;
  /** Values of earlier tokens: [B, numKvHeads, S, headDim]. */
  value: Value;
}

export interface CachedDecoderInputs {
  /** Token ids [B, T] (int32), the T new tokens of each row. */
  ids: Value;
  /** Position of each new token [B, T] (int32). */
  positions: Value;
  /** Additive bias [B, S] over the cache slots: 0 for a slot every new token sees, -1e9 for empty or padding slots. */
  pastBias: Value;
  /** Additive bias [B, T, T] among the new tokens (query, key): 0 where visible (causal, not padding), -1e9 elsewhere. */
  newBias: Value;
  /** Per layer, the cache of S slots (a preallocated buffer, partly filled; `pastBias` hides the rest). */
  past: KeyValueCache[];
}

/**
 * The decoder for generation over a preallocated cache: the T new tokens attend to the cache's
 * S slots and to each other, and each layer returns only the new tokens' keys (transposed, as
 * the cache stores them: [B, kv, hd, T]) and values ([B, kv, T, hd]) for the caller to write
 * into its buffers. Nothing of size S is copied, so a step costs the same however full the
 * cache; the softmax runs over [cache slots, new keys] at once, so the result is that of
 * attention over the concatenated keys. Same parameters and arithmetic as `decoder`.
 */
export function cachedDecoder(g: Graph, cfg: ModelConfig, p: Record<string, Value>, inputs: CachedDecoderInputs): { hidden: Value; fresh: KeyValueCache[] } {
  // A decode step runs a few hundred tiny kernels, so their number is most of its cost: shapes
  // here are constants with 0 ("copy this dim") instead of ones assembled from Shape nodes each
  // run, the norms take the form onnxruntime fuses into one kernel, and the rotary tables are
  // scaled once for all layers.
  const { ids, positions, past } = inputs;
  const [B, T] = ids.dims;
  const hd = headDim(cfg);
  const kvHeads = cfg.numKvHeads;
  const group = cfg.numHeads / kvHeads;
  const reshape = (x: Value, shape: number[], dims: Dim[]) => g.emit('Reshape', [x, g.ints(shape)], {}, x.dtype, dims);
  const transpose = (x: Value, perm: number[], name?: string) =>
    g.emit('Transpose', [x], { perm: { kind: 'ints', value: perm } }, x.dtype, perm.map((i) => x.dims[i]), name);
  const rope = rotaryTables(g, cfg, positions);
  const qRope = scaledRotary(g, rope, 1 / Math.sqrt(hd));
  const pastBias = reshape(inputs.pastBias, [0, 1, 1, -1], [B, 1, 1, past[0].keyT.dims[3]]); // [B, 1, 1, S]
  // [B, T, T] -> [B, 1, group*T, T]: the query rows are stacked group-major (stackHeads).
  const rowsDim = dimProduct([group, T]);
  const tiled = group === 1 ? inputs.newBias : g.emit('Tile', [inputs.newBias, g.ints([1, group, 1])], {}, inputs.newBias.dtype, [B, rowsDim, T]);
  const newBias = g.unsqueeze(tiled, 1);
  let h = g.gather(p['model.embed_tokens.weight'], ids);
  const fresh: KeyValueCache[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const pre = `model.layers.${i}.`;
    const a = `${pre}self_attn.`;
    const x = fusableRmsNorm(g, cfg, h, p[pre + 'input_layernorm.weight']);
    const rows = (name: string, n: number, r?: Rotary) => {
      const y = headNorm(g, cfg, p, a + name, reshape(linear(g, x, p[a + name + '.weight'], p[a + name + '.bias']), [0, 0, n, hd], [B, T, n, hd]), fusableRmsNorm);
      return r ? applyRotary(g, y, r) : y;
    };
    // [B, T, heads, hd] -> [B, kv, group*T, hd], as stackHeads
    const qHeads = rows('q_proj', cfg.numHeads, qRope);
    const q = group === 1
      ? transpose(qHeads, [0, 2, 1, 3])
      : reshape(transpose(reshape(qHeads, [0, 0, kvHeads, group, hd], [B, T, kvHeads, group, hd]), [0, 2, 3, 1, 4]), [0, 0, -1, hd], [B, kvHeads, rowsDim, hd]);
    const keyT = transpose(rows('k_proj', kvHeads, rope), [0, 2, 3, 1], `new.${i}.key`); // [B, kv, hd, T]
    const value = transpose(rows('v_proj', kvHeads), [0, 2, 1, 3], `new.${i}.value`); // [B, kv, T, hd]
    fresh.push({ keyT, value });
    const { keyT: pastKeyT, value: pastValue } = past[i];
    const S = pastKeyT.dims[3];
    const scoresPast = g.add(g.matmul(q, pastKeyT), pastBias); // [B, kv, group*T, S]
    const scoresNew = g.add(g.matmul(q, keyT), newBias); // [B, kv, group*T, T]
    const probs = g.softmax(g.concat([scoresPast, scoresNew], -1), -1);
    const sValue = g.dimValue(S);
    const cut = (from: Value, to: Value, size: Dim) =>
      g.emit('Slice', [probs, from, to, g.ints([3])], {}, probs.dtype, [B, kvHeads, rowsDim, size]);
    const ctx = g.add(g.matmul(cut(g.ints([0]), sValue, S), pastValue), g.matmul(cut(sValue, g.ints([2 ** 62]), T), value));
    // [B, kv, group*T, hd] -> [B, T, heads*hd], as mergeHeads
    const merged = group === 1
      ? reshape(transpose(ctx, [0, 2, 1, 3]), [0, 0, -1], [B, T, cfg.numHeads * hd])
      : reshape(transpose(reshape(ctx, [0, 0, group, -1, hd], [B, kvHeads, group, T, hd]), [0, 3, 1, 2, 4]), [0, 0, -1], [B, T, cfg.numHeads * hd]);
    h = g.add(h, linear(g, merged, p[a + 'o_proj.weight']));
    const y = fusableRmsNorm(g, cfg, h, p[pre + 'post_attention_layernorm.weight']);
    const gate = silu(g, linear(g, y, p[pre + 'mlp.gate_proj.weight']));
    h = g.add(h, linear(g, g.mul(gate, linear(g, y, p[pre + 'mlp.up_proj.weight'])), p[pre + 'mlp.down_proj.weight']));
  }
  return { hidden: fusableRmsNorm(g, cfg, h, p['model.norm.weight']), fresh };
}

/**
 * rmsNorm in the form onnxruntime's SimplifiedLayerNormFusion recognises (Pow, ReduceMean, Add,
 * Sqrt, Div, Mul), so inference runs it as one kernel; rmsNorm's form suits autodiff instead.
 */
function fusableRmsNorm(g: Graph, cfg: ModelConfig, x: Value, w: Value): Value {
  const meanSquare = g.reduceMean(g.pow(x, g.scalar(2)), [-1], true);
  return g.mul(g.div(x, g.sqrt(g.add(meanSquare, g.scalar(cfg.rmsNormEps)))), w);
}
