import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

/**
 * Text <-> token ids. `encode` never adds special tokens (prepend `bosId` yourself where the model
 * wants one) and `decode` leaves special tokens out, so decoded completions are plain text.
 */
export interface Tokenizer {
  /** One more than the largest id; the model's vocabulary must be at least this large. */
  vocabSize: number;
  eosId: number;
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
 * Loads a Hugging Face tokenizer from a model folder or a tokenizer.json path. Special tokens come
 * from tokenizer_config.json beside it (eos_token required; pad_token falls back to eos_token, as
 * most causal LMs have none); `opts` overrides them for folders without a config.
 */
export function loadHfTokenizer(dirOrFile: string, opts: { eosToken?: string; padToken?: string; bosToken?: string } = {}): Tokenizer {
  const file = fs.statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, 'tokenizer.json') : dirOrFile;
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const tokenizerJson = JSON.parse(fs.readFileSync(file, 'utf8')) as object;
  // Without a config, decode returns the decoder's text untouched rather than "cleaning up" spaces.
  const config = (fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, 'utf8')) : { clean_up_tokenization_spaces: false }) as Record<string, unknown>;
  const hf = new HfTokenizer(tokenizerJson, config);

  const idOf = (role: string, token: string | undefined): number | undefined => {
    if (token === undefined) return undefined;
    const id = hf.token_to_id(token);
    if (id === undefined) throw new Error(`${file}: ${role} token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  const eosId = idOf('eos', opts.eosToken ?? tokenText(config.eos_token));
  if (eosId === undefined) throw new Error(`${file}: no eos token (set eos_token in ${configFile} or pass opts.eosToken)`);
  const padId = idOf('pad', opts.padToken ?? tokenText(config.pad_token)) ?? eosId;
  const bosId = idOf('bos', opts.bosToken ?? tokenText(config.bos_token));

  let vocabSize = 0;
  for (const id of hf.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);

  return {
    vocabSize,
    eosId,
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
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function checkId(id: number, vocabSize: number): void {
  if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary (size ${vocabSize})`);
}
