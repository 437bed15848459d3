/**
 * A Llama/Qwen2-style decoder as ONNX nodes: token embedding, then per layer
 * x + attn(rmsnorm(x)) and x + mlp(rmsnorm(x)) with rotary positions, grouped-query causal
 * attention and a SwiGLU MLP, then a final RMSNorm and the LM head. Parameter names and layouts
 * are those of Hugging Face safetensors, so checkpoints load without renaming.
 */
import type { ModelConfig } from '../schemas/model';
import { Graph, Value } from './onnx/builder';
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

export interface KeyValue {
  key: Value; // [B, numKvHeads, keys, headDim], rotary already applied
  value: Value;
}

export interface DecoderInputs {
  /** Token ids [B, T] (int32). */
  ids: Value;
  /** Position of each token [B, T] (int32): its index among the sequence's unpadded tokens. */
  positions: Value;
  /** 1 for real tokens, 0 for padding, over past and new keys [B, K] (float). */
  attentionMask: Value;
  /** Per layer, the cached keys/values of earlier tokens (generation only). */
  past?: KeyValue[];
}

/**
 * The decoder up to and including the final norm: hidden states [B, T, d], and each layer's
 * keys/values over past + new tokens for the next decoding step.
 */
export function decoder(g: Graph, cfg: ModelConfig, p: Record<string, Value>, inputs: DecoderInputs): { hidden: Value; present: KeyValue[] } {
  const { ids, positions, attentionMask, past } = inputs;
  const rope = rotaryTables(g, cfg, positions);
  const bias = attentionBias(g, ids, attentionMask);
  let h = g.gather(p['model.embed_tokens.weight'], ids);
  const present: KeyValue[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const pre = `model.layers.${i}.`;
    const attn = attention(g, cfg, p, pre + 'self_attn.', rmsNorm(g, cfg, h, p[pre + 'input_layernorm.weight']), rope, bias, past?.[i]);
    present.push(attn.present);
    h = g.add(h, attn.out);
    const x = rmsNorm(g, cfg, h, p[pre + 'post_attention_layernorm.weight']);
    const gate = linear(g, x, p[pre + 'mlp.gate_proj.weight']);
    const silu = g.mul(gate, g.sigmoid(gate));
    h = g.add(h, linear(g, g.mul(silu, linear(g, x, p[pre + 'mlp.up_proj.weight'])), p[pre + 'mlp.down_proj.weight']));
  }
  return { hidden: rmsNorm(g, cfg, h, p['model.norm.weight']), present };
}

/** Logits [..., V] from final hidden states [..., d]. */
export function lmHead(g: Graph, cfg: ModelConfig, p: Record<string, Value>, hidden: Value): Value {
  return linear(g, hidden, p[cfg.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight']);
}

/** x @ W^T (+ b), W stored [out, in]. */
function linear(g: Graph, x: Value, w: Value, b?: Value): Value {
  const y = g.matmul(x, g.transposeLast(w));
  return b ? g.add(y, b) : y;
}

function rmsNorm(g: Graph, cfg: ModelConfig, x: Value, w: Value): Value {
  const meanSquare = g.reduceMean(g.mul(x, x), [-1], true);
  return g.mul(g.div(x, g.sqrt(g.add(meanSquare, g.scalar(cfg.rmsNormEps)))), w);
}

interface Rotary {
  cos: Value; // [B, 1, T, headDim]
  sin: Value;
}

/** cos/sin of position * inverse frequency, the two halves repeated (HF's rotate_half layout). */
function rotaryTables(g: Graph, cfg: ModelConfig, positions: Value): Rotary {
  const hd = headDim(cfg);
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => 1 / cfg.ropeTheta ** ((2 * i) / hd));
  const angles = g.mul(g.unsqueeze(g.cast(positions, g.float), -1), g.constant(invFreq, g.float, [hd / 2]));
  const full = g.unsqueeze(g.concat([angles, angles], -1), 1);
  return { cos: g.cos(full), sin: g.sin(full) };
}

function applyRotary(g: Graph, x: Value, r: Rotary): Value {
  const half = (x.dims.at(-1) as number) / 2;
  const rotated = g.concat([g.neg(g.slice(x, -1, half)), g.slice(x, -1, 0, half)], -1);
  return g.add(g.mul(x, r.cos), g.mul(rotated, r.sin));
}

/**
 * Additive attention bias [B, 1, 1, T, K]: 0 where query t may see key k, -1e9 elsewhere.
 * The T queries are the last T of the K keys, so query t sees keys up to K - T + t, minus padding.
 * A large finite value, not -inf, keeps rows of padding queries (which see nothing) free of NaN.
 */
function attentionBias(g: Graph, ids: Value, attentionMask: Value): Value {
  const T = ids.dims[1];
  const K = attentionMask.dims[1];
  const scalarDim = (d: typeof T) => g.reshape(g.dimValue(d), []);
  const keyIndex = g.unsqueeze(g.range(scalarDim(K), K), 0); // [1, K]
  const queryIndex = g.unsqueeze(g.add(g.range(scalarDim(T), T), g.sub(scalarDim(K), scalarDim(T))), 1); // [T, 1]
  const causal = g.lessOrEqual(keyIndex, queryIndex); // [T, K]
  const notPad = g.unsqueeze(g.greater(attentionMask, g.scalar(0.5)), 1); // [B, 1, K]
  const visible = g.and(causal, notPad); // [B, T, K]
  return g.unsqueeze(g.unsqueeze(g.where(visible, g.scalar(0), g.scalar(-1e9)), 1), 1);
}

function attention(
  g: Graph, cfg: ModelConfig, p: Record<string, Value>, pre: string,
  x: Value, rope: Rotary, bias: Value, past: KeyValue | undefined,
): { out: Value; present: KeyValue } {
  const [B, T] = x.dims;
  const hd = headDim(cfg);
  const kvHeads = cfg.numKvHeads;
  const group = cfg.numHeads / kvHeads;
  // [B, T, heads*hd] -> [B, heads, T, hd]
  const heads = (name: string, n: number) =>
    g.transpose(g.reshape(linear(g, x, p[pre + name + '.weight'], p[pre + name + '.bias']), [B, T, n, hd]), [0, 2, 1, 3]);
  const q = applyRotary(g, heads('q_proj', cfg.numHeads), rope);
  let k = applyRotary(g, heads('k_proj', kvHeads), rope);
  let v = heads('v_proj', kvHeads);
  if (past) {
    k = g.concat([past.key, k], 2);
    v = g.concat([past.value, v], 2);
  }
  // Grouped-query attention without copying keys: query heads [B, kv, group, T, hd] broadcast
  // against keys [B, kv, 1, K, hd]; query head h uses kv head floor(h / group), as HF's repeat_kv.
  const qg = g.reshape(q, [B, kvHeads, group, T, hd]);
  const kg = g.unsqueeze(k, 2);
  const vg = g.unsqueeze(v, 2);
  const scores = g.add(g.mul(g.matmul(qg, g.transposeLast(kg)), g.scalar(1 / Math.sqrt(hd))), bias);
  const ctx = g.matmul(g.softmax(scores, -1), vg); // [B, kv, group, T, hd]
  const merged = g.reshape(g.transpose(g.reshape(ctx, [B, cfg.numHeads, T, hd]), [0, 2, 1, 3]), [B, T, cfg.numHeads * hd]);
  return { out: linear(g, merged, p[pre + 'o_proj.weight']), present: { key: k, value: v } };
}
