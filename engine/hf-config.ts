/**
 * Hugging Face config.json <-> ModelConfig. Reads both layouts transformers has written: rope
 * settings at the top level (`rope_theta`, `rope_scaling`; transformers 4) or under
 * `rope_parameters` (transformers 5). Anything the engine does not compute exactly (another
 * activation, a sliding window in use, experts, a rope type other than default or llama3, biases
 * other than Qwen2's q/k/v) is refused with the field that asks for it, never approximated.
 */
import { modelConfigSchema, type Architecture, type ModelConfig, type RopeScaling } from '../schemas/model';

type Json = Record<string, unknown>;

/** model_type -> what transformers calls the class, and the defaults its config class has. */
const ARCHITECTURES: Record<Architecture, { className: string; qkvBias: boolean; qkNorm: boolean; defaultHeadDim?: number }> = {
  llama: { className: 'LlamaForCausalLM', qkvBias: false, qkNorm: false },
  mistral: { className: 'MistralForCausalLM', qkvBias: false, qkNorm: false },
  qwen2: { className: 'Qwen2ForCausalLM', qkvBias: true, qkNorm: false },
  qwen3: { className: 'Qwen3ForCausalLM', qkvBias: false, qkNorm: true, defaultHeadDim: 128 },
};

export class UnsupportedModelError extends Error {
  override readonly name = 'UnsupportedModelError';
}

/** A ModelConfig from a parsed config.json; `file` names it in errors. */
export function fromHfConfig(json: Json, file = 'config.json'): ModelConfig {
  const refuse = (field: string, why: string): never => {
    throw new UnsupportedModelError(`${file}: ${field}: ${why}`);
  };
  const modelType = json.model_type;
  if (typeof modelType !== 'string' || !(modelType in ARCHITECTURES)) {
    refuse('model_type', `${JSON.stringify(modelType)} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  const architecture = modelType as Architecture;
  const arch = ARCHITECTURES[architecture];
  const num = (field: string, fallback?: number): number => {
    const v = json[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return refuse(field, v === undefined ? 'missing' : `${JSON.stringify(v)} is not a number`);
    return v;
  };

  const act = json.hidden_act ?? json.hidden_activation ?? 'silu';
  if (act !== 'silu') refuse('hidden_act', `${JSON.stringify(act)}: the engine's MLP is SwiGLU (silu)`);
  for (const field of ['num_experts', 'num_local_experts', 'n_routed_experts']) {
    if (typeof json[field] === 'number' && (json[field] as number) > 0) refuse(field, 'mixture-of-experts models are not supported');
  }
  if (json.attention_bias === true && !arch.qkvBias) refuse('attention_bias', 'attention biases are not supported for this architecture');
  if (json.mlp_bias === true) refuse('mlp_bias', 'MLP biases are not supported');
  const maxPositions = num('max_position_embeddings');
  if (architecture === 'mistral') {
    const window = json.sliding_window;
    if (typeof window === 'number' && window < maxPositions) refuse('sliding_window', `a sliding window of ${window} < max_position_embeddings ${maxPositions} is not supported`);
  } else if (json.use_sliding_window === true) {
    refuse('use_sliding_window', 'sliding-window attention is not supported');
  }

  const ropeParameters = (json.rope_parameters ?? undefined) as Json | undefined;
  const ropeField = ropeParameters ? 'rope_parameters' : 'rope_scaling';
  const rope = (ropeParameters ?? json.rope_scaling ?? undefined) as Json | undefined;
  const ropeTheta = ropeParameters && ropeParameters.rope_theta !== undefined ? ropeParameters.rope_theta : (json.rope_theta ?? 10000);
  if (typeof ropeTheta !== 'number') refuse(ropeParameters ? 'rope_parameters.rope_theta' : 'rope_theta', `${JSON.stringify(ropeTheta)} is not a number`);
  let ropeScaling: RopeScaling | undefined;
  const ropeType = rope ? (rope.rope_type ?? rope.type ?? 'default') : 'default';
  if (ropeType === 'llama3') {
    const r = rope as Json;
    const field = (name: string) => {
      const v = r[name];
      return typeof v === 'number' ? v : refuse(`${ropeField}.${name}`, v === undefined ? 'missing for rope type llama3' : `${JSON.stringify(v)} is not a number`);
    };
    ropeScaling = {
      type: 'llama3',
      factor: field('factor'),
      lowFreqFactor: field('low_freq_factor'),
      highFreqFactor: field('high_freq_factor'),
      originalMaxPositionEmbeddings: field('original_max_position_embeddings'),
    };
  } else if (ropeType !== 'default') {
    refuse(`${ropeField}.rope_type`, `${JSON.stringify(ropeType)} is not supported (supported: default, llama3)`);
  }

  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const parsed = modelConfigSchema.safeParse({
    vocabSize: num('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: num('num_key_value_heads', heads),
    headDim: typeof json.head_dim === 'number' ? json.head_dim : arch.defaultHeadDim ?? hidden / heads,
    ropeTheta,
    ...(ropeScaling && { ropeScaling }),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    tieEmbeddings: json.tie_word_embeddings === true,
    qkvBias: arch.qkvBias,
    qkNorm: arch.qkNorm,
    architecture,
    maxSeqLen: maxPositions,
  });
  if (!parsed.success) refuse('config', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data!;
}

/**
 * The generation_config.json transformers derives from a config.json when the model folder has
 * none (GenerationConfig.from_model_config): the special token ids, eos_token_id perhaps a list
 * of every end token. Undefined when config.json names none.
 */
export function generationConfigOf(json: Json): Json | undefined {
  const ids = ['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((k) => json[k] !== undefined && json[k] !== null);
  return ids.length > 0 ? Object.fromEntries(ids.map((k) => [k, json[k]])) : undefined;
}

/** Token ids the exported config.json names (from generation_config.json / the tokenizer). */
export interface SpecialTokenIds {
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
}

/** The architecture a config exports as: its own, or the plainest that computes it. */
export function exportArchitecture(cfg: ModelConfig): Architecture {
  const architecture = cfg.architecture ?? (cfg.qkNorm ? 'qwen3' : cfg.qkvBias ? 'qwen2' : 'llama');
  const arch = ARCHITECTURES[architecture];
  if (arch.qkvBias !== cfg.qkvBias || arch.qkNorm !== cfg.qkNorm) {
    throw new UnsupportedModelError(`architecture ${architecture} cannot hold a model with qkvBias=${cfg.qkvBias}, qkNorm=${cfg.qkNorm}`);
  }
  return architecture;
}

/** config.json as transformers writes it for the architecture (transformers 4 layout, which 5 reads too). */
export function toHfConfig(cfg: ModelConfig, tokens: SpecialTokenIds, dtype: 'float32' | 'bfloat16' | 'float16'): Json {
  const architecture = exportArchitecture(cfg);
  const s = cfg.ropeScaling;
  return {
    architectures: [ARCHITECTURES[architecture].className],
    model_type: architecture,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim ?? cfg.hiddenSize / cfg.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: cfg.maxSeqLen,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: s
      ? { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositionEmbeddings }
      : null,
    tie_word_embeddings: cfg.tieEmbeddings,
    ...(architecture === 'llama' && { attention_bias: false, mlp_bias: false }),
    ...(architecture === 'qwen3' && { attention_bias: false }),
    ...(architecture === 'mistral' ? { sliding_window: null } : architecture !== 'llama' && { use_sliding_window: false }),
    initializer_range: 0.02,
    use_cache: true,
    ...(tokens.bosTokenId !== undefined && { bos_token_id: tokens.bosTokenId }),
    ...(tokens.eosTokenId !== undefined && { eos_token_id: tokens.eosTokenId }),
    ...(tokens.padTokenId !== undefined && { pad_token_id: tokens.padTokenId }),
    torch_dtype: dtype,
  };
}
