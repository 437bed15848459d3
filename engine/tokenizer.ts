import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

/**
 * Text <-> token ids. `encode` never adds special tokens (prepend `bosId` yourself where the model
 * wants one) and `decode` leaves special tokens out, so decoded completions are plain text.
 */
export interface Tokenizer {
  /** One more than the largest id; the model's vocabulary must be at least this large. */
  vocabSize: number;
  /** The end of a sequence: appended to training completions. */
  eosId: number;
  /** Every id that ends generation: eosId and the model's other end-of-turn ids. */
  stopIds: readonly number[];
  padId: number;
  bosId?: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
}

/**
 * The tokenizer of the built-in tiny models: ids 0-255 are the UTF-8 bytes, then <pad>, <bos>,
 * <eos>. Special tokens exist only as ids: the text "<eos>" encodes as its five bytes.
 */
export class ByteTokenizer implements Tokenizer {
  readonly padId = 256;
  readonly bosId = 257;
  readonly eosId = 258;
  readonly stopIds = [258];
  readonly vocabSize = 259;

  encode(text: string): number[] {
    return Array.from(Buffer.from(text, 'utf8'));
  }

  /** Never throws on bytes that are not valid UTF-8 (a completion cut mid-character): they become U+FFFD. */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      checkId(id, this.vocabSize);
      if (id < 256) bytes.push(id);
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
  }
}

/**
 * The tokenizer of a model's checkpoint assets (tokenizer.json, tokenizer_config.json,
 * generation_config.json, as Hugging Face writes them); the byte tokenizer when there is no
 * tokenizer.json (the demo's models made from a config).
 */
export function tokenizerOf(assets: Record<string, Uint8Array> = {}): Tokenizer {
  return assets['tokenizer.json'] ? hfTokenizer(assets) : new ByteTokenizer();
}

/**
 * A Hugging Face tokenizer from its files' bytes. Special tokens come from tokenizer_config.json
 * (eos_token required; pad_token falls back to eos_token, as most causal LMs have none); the
 * BOS is prepended to plain text only where Hugging Face does (add_bos_token, or a
 * post-processor that adds it); generation stops at every eos_token_id of
 * generation_config.json as well (Qwen and Llama 3 instruct models have several).
 */
export function hfTokenizer(assets: Record<string, Uint8Array>): Tokenizer {
  const json = (name: string): Record<string, unknown> | undefined => {
    const bytes = assets[name];
    if (!bytes) return undefined;
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${name}: not JSON (${(err as Error).message})`);
    }
  };
  const tokenizerJson = json('tokenizer.json');
  if (!tokenizerJson) throw new Error('no tokenizer.json');
  // Without a config, decode returns the decoder's text untouched rather than "cleaning up" spaces.
  const config = json('tokenizer_config.json') ?? { clean_up_tokenization_spaces: false };
  const hf = new HfTokenizer(tokenizerJson, config);

  const idOf = (role: string, token: string | undefined): number | undefined => {
    if (token === undefined) return undefined;
    const id = hf.token_to_id(token);
    if (id === undefined) throw new Error(`tokenizer_config.json: ${role}_token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  const eosId = idOf('eos', tokenText(config.eos_token));
  if (eosId === undefined) throw new Error('tokenizer_config.json: no eos_token');
  const padId = idOf('pad', tokenText(config.pad_token)) ?? eosId;
  const bos = idOf('bos', tokenText(config.bos_token));
  const post = tokenizerJson.post_processor as { type?: string; single?: { SpecialToken?: { id: string } }[] } | null | undefined;
  const leading = post?.type === 'TemplateProcessing' ? post.single?.[0]?.SpecialToken?.id : undefined;
  const bosId = config.add_bos_token === true ? bos : config.add_bos_token === false ? undefined : leading === undefined ? undefined : idOf('bos', leading);
  const generationEos = json('generation_config.json')?.eos_token_id;
  const stopIds = [...new Set([eosId, ...[generationEos ?? []].flat().filter((x): x is number => Number.isInteger(x))])];

  let vocabSize = 0;
  for (const id of hf.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);

  return {
    vocabSize,
    eosId,
    stopIds,
    padId,
    ...(bosId === undefined ? {} : { bosId }),
    encode: (text) => hf.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => {
      for (const id of ids) checkId(id, vocabSize);
      return ids.length === 0 ? '' : hf.decode(ids, { skip_special_tokens: true });
    },
  };
}

/** tokenizer_config.json writes a special token either as its text or as an AddedToken object. */
export function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function checkId(id: number, vocabSize: number): void {
  if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary (size ${vocabSize})`);
}
