/**
 * A GGUF file as a ModelSource: llama.cpp's metadata becomes a Hugging Face config.json (then
 * read by hf-config.ts like any other), its tensor names become Hugging Face names, and its
 * tokenizer (tokens, merges, token types, special ids) and chat template become the
 * tokenizer.json, tokenizer_config.json and generation_config.json a Hugging Face loader reads.
 *
 * llama.cpp's converter permutes the rows of Llama's q and k projections for its rope layout
 * (interleaved pairs instead of halves); reading them back undoes that, as transformers' GGUF
 * loader does. Qwen2/3 GGUFs are not permuted.
 */
import { fromHfConfig } from './hf-config';
import { GgufError, GgufFile, type GgufValue } from './gguf';
import type { ModelSource } from './model-source';
import type { TensorF32 } from './tensors';

const ARCHITECTURES = ['llama', 'qwen2', 'qwen3'] as const;

/** GGUF tensor name (after `blk.N.`) -> Hugging Face name (after `model.layers.N.`). */
const LAYER_TENSORS: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_q_norm.weight': 'self_attn.q_norm.weight',
  'attn_k_norm.weight': 'self_attn.k_norm.weight',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};
const TOP_TENSORS: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

function hfName(gguf: string, path: string): string {
  const top = TOP_TENSORS[gguf];
  if (top) return top;
  const m = /^blk\.(\d+)\.(.+)$/.exec(gguf);
  const inner = m && LAYER_TENSORS[m[2]];
  if (!m || !inner) throw new GgufError(`${path}: tensor "${gguf}" is not one the engine models`);
  return `model.layers.${m[1]}.${inner}`;
}

export function openGguf(path: string): ModelSource {
  const file = GgufFile.open(path);
  try {
    const meta = file.metadata;
    const get = (key: string): GgufValue | undefined => meta.get(key);
    const arch = get('general.architecture');
    if (typeof arch !== 'string' || !(ARCHITECTURES as readonly string[]).includes(arch)) {
      throw new GgufError(`${path}: general.architecture ${JSON.stringify(arch)} is not supported (supported: ${ARCHITECTURES.join(', ')})`);
    }
    if (file.tensors.has('rope_freqs.weight')) {
      throw new GgufError(`${path}: tensor "rope_freqs.weight" (Llama 3.1 rope scaling baked into frequencies) is not supported; import the Hugging Face folder instead`);
    }
    const n = (key: string) => {
      const v = get(`${arch}.${key}`);
      return typeof v === 'bigint' ? Number(v) : v;
    };
    const tokens = get('tokenizer.ggml.tokens');
    const heads = n('attention.head_count');
    const numKvHeads = n('attention.head_count_kv') ?? heads;
    const config = fromHfConfig({
      model_type: arch,
      vocab_size: n('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : undefined),
      hidden_size: n('embedding_length'),
      intermediate_size: n('feed_forward_length'),
      num_hidden_layers: n('block_count'),
      num_attention_heads: heads,
      num_key_value_heads: numKvHeads,
      head_dim: n('attention.key_length') ?? n('rope.dimension_count'),
      max_position_embeddings: n('context_length'),
      rope_theta: n('rope.freq_base') ?? 10000,
      rms_norm_eps: n('attention.layer_norm_rms_epsilon'),
      tie_word_embeddings: !file.tensors.has('output.weight'),
      hidden_act: 'silu',
      ...(n('expert_count') !== undefined && { num_experts: n('expert_count') }),
      ...(n('rope.scaling.type') !== undefined && n('rope.scaling.type') !== 'none' && { rope_scaling: { rope_type: n('rope.scaling.type') } }),
    }, `${path} (metadata ${arch}.*)`);

    const names = new Map<string, string>(); // HF -> GGUF
    const shapes: Record<string, number[]> = {};
    for (const info of file.tensors.values()) {
      const name = hfName(info.name, path);
      names.set(name, info.name);
      shapes[name] = info.shape;
    }
    const permuteHeads = (name: string) => (arch !== 'llama' ? 0 : name.endsWith('q_proj.weight') ? config.numHeads : name.endsWith('k_proj.weight') ? config.numKvHeads : 0);
    return {
      origin: path,
      config,
      assets: tokenizerAssets(meta, path),
      shapes,
      read: (name) => {
        const gguf = names.get(name);
        if (!gguf) throw new GgufError(`${path}: no tensor for "${name}"`);
        const t = file.read(gguf);
        const heads = permuteHeads(name);
        return heads ? unpermuteRows(t, heads) : t;
      },
      close: () => file.close(),
    };
  } catch (err) {
    file.close();
    throw err;
  }
}

/**
 * Undoes llama.cpp's `permute(w, n_head)`: within each head, GGUF row 2i + j is Hugging Face
 * row j * (hd / 2) + i (interleaved rotary pairs back to halves).
 */
export function unpermuteRows(t: TensorF32, heads: number): TensorF32 {
  const [rows, cols] = t.dims;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + 2 * i + j) * cols;
        out.set(t.data.subarray(from, from + cols), (h * hd + j * half + i) * cols);
      }
    }
  }
  return { dims: t.dims, data: out };
}

/** llama.cpp's token types. */
const CONTROL = 3;
const USER_DEFINED = 4;

/** Pre-tokenizers of the byte-level BPE vocabularies llama.cpp names in `tokenizer.ggml.pre`. */
const PRE_TOKENIZERS: Record<string, object> = {
  gpt2: byteLevel(true),
  smollm: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] },
  'llama-bpe': splitThenBytes("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
  qwen2: splitThenBytes("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
};

function byteLevel(useRegex: boolean) {
  return { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex };
}

function splitThenBytes(regex: string) {
  return { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel(false)] };
}

/** tokenizer.json, tokenizer_config.json and generation_config.json from GGUF metadata. */
function tokenizerAssets(meta: Map<string, GgufValue>, path: string): Record<string, Uint8Array> {
  const fail = (key: string, why: string): never => {
    throw new GgufError(`${path}: ${key}: ${why}`);
  };
  const model = meta.get('tokenizer.ggml.model');
  if (model !== 'gpt2') fail('tokenizer.ggml.model', `${JSON.stringify(model)} is not supported (only byte-level BPE, "gpt2")`);
  const preName = String(meta.get('tokenizer.ggml.pre') ?? 'gpt2');
  const pre = PRE_TOKENIZERS[preName] ?? fail('tokenizer.ggml.pre', `${JSON.stringify(preName)} is not supported (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`);
  const tokens = meta.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) return fail('tokenizer.ggml.tokens', 'missing or not a list of strings');
  const merges = meta.get('tokenizer.ggml.merges') ?? [];
  if (!Array.isArray(merges)) return fail('tokenizer.ggml.merges', 'not a list');
  const types = (meta.get('tokenizer.ggml.token_type') ?? []) as number[];
  const id = (key: string): number | undefined => {
    const v = meta.get(`tokenizer.ggml.${key}`);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n >= tokens.length) fail(`tokenizer.ggml.${key}`, `${v} is not a token id`);
    return n;
  };
  const bos = id('bos_token_id');
  const eos = id('eos_token_id');
  if (eos === undefined) fail('tokenizer.ggml.eos_token_id', 'missing');
  const pad = id('padding_token_id');
  const unk = id('unknown_token_id');
  const addBos = meta.get('tokenizer.ggml.add_bos_token') === true && bos !== undefined;
  const addEos = meta.get('tokenizer.ggml.add_eos_token') === true;
  const text = (i: number | undefined) => (i === undefined ? null : (tokens[i] as string));

  const vocab: Record<string, number> = {};
  (tokens as string[]).forEach((t, i) => (vocab[t] = i));
  const added = (tokens as string[]).flatMap((content, i) =>
    types[i] === CONTROL || types[i] === USER_DEFINED
      ? [{ id: i, content, single_word: false, lstrip: false, rstrip: false, normalized: types[i] !== CONTROL, special: types[i] === CONTROL }]
      : [],
  );
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: pre,
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: text(bos), type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: text(bos), type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: text(bos), type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [text(bos)!]: { id: text(bos), ids: [bos], tokens: [text(bos)] } },
        }
      : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: text(unk), continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const chatTemplate = meta.get('tokenizer.chat_template');
  const config = {
    add_bos_token: addBos,
    add_eos_token: addEos,
    bos_token: text(bos),
    eos_token: text(eos),
    pad_token: text(pad),
    unk_token: text(unk),
    clean_up_tokenization_spaces: false,
    model_max_length: Number(meta.get(`${meta.get('general.architecture')}.context_length`) ?? 2048),
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...(typeof chatTemplate === 'string' && { chat_template: chatTemplate }),
  };
  // Every end-of-turn id llama.cpp records ends generation (Llama 3 instruct has eos, eot and eom).
  const eosIds = [...new Set([eos!, id('eot_token_id'), id('eom_token_id')].filter((x): x is number => x !== undefined))];
  const generation = {
    ...(bos !== undefined && { bos_token_id: bos }),
    eos_token_id: eosIds.length === 1 ? eosIds[0] : eosIds,
    ...(pad !== undefined && { pad_token_id: pad }),
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n');
  return { 'tokenizer.json': json(tokenizer), 'tokenizer_config.json': json(config), 'generation_config.json': json(generation) };
}
