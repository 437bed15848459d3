import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteTokenizer, hfTokenizer, tokenizerOf } from '../../engine/tokenizer';

describe('ByteTokenizer', () => {
  const tok = new ByteTokenizer();

  it('round-trips text including multi-byte unicode', () => {
    const text = 'x² + ½ = 1 — 数学 🧮 <think>';
    const ids = tok.encode(text);
    assert.equal(ids.length, Buffer.byteLength(text));
    assert.ok(ids.every((id) => id >= 0 && id < 256));
    assert.equal(tok.decode(ids), text);
  });

  it('keeps special tokens out of text in both directions', () => {
    assert.deepEqual(tok.encode('<eos>'), [...Buffer.from('<eos>')]);
    assert.equal(tok.decode([tok.bosId, ...tok.encode('hi'), tok.eosId, tok.padId]), 'hi');
    assert.equal(new Set([tok.padId, tok.bosId, tok.eosId]).size, 3);
    assert.equal(tok.vocabSize, 259);
  });

  it('decodes a completion cut mid-character without throwing', () => {
    const ids = tok.encode('a🧮');
    assert.equal(tok.decode(ids.slice(0, 3)), 'a\uFFFD');
    assert.throws(() => tok.decode([259]), /outside the vocabulary/);
  });
});

/** GPT-2's reversible byte -> printable character map, as byte-level BPE tokenizer.json files use. */
function byteToUnicode(): string[] {
  const printable = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  let next = 256;
  return range(0, 255).map((b) => String.fromCodePoint(printable.includes(b) ? b : next++));
}
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** The asset files of a tiny byte-level BPE tokenizer in the Hugging Face format, with a few merges. */
function tinyHfTokenizer(config?: object, generation?: object): Record<string, Uint8Array> {
  const bytes = byteToUnicode();
  const vocab: Record<string, number> = Object.fromEntries(bytes.map((c, i) => [c, i]));
  const merges = ['Ġ t', 'h e', 'Ġt he', 'l l', 'he ll'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const n = Object.keys(vocab).length;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(n, '<|endoftext|>'), special(n + 1, '<|pad|>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  return {
    'tokenizer.json': json(tokenizerJson),
    ...(config && { 'tokenizer_config.json': json(config) }),
    ...(generation && { 'generation_config.json': json(generation) }),
  };
}

describe('hfTokenizer', () => {
  it('reads tokenizer.json and tokenizer_config.json, applies merges and round-trips text', () => {
    const tok = hfTokenizer(tinyHfTokenizer({ eos_token: '<|endoftext|>', pad_token: { content: '<|pad|>' }, bos_token: null, clean_up_tokenization_spaces: false }));
    assert.equal(tok.vocabSize, 256 + 5 + 2);
    assert.equal(tok.eosId, 261);
    assert.deepEqual(tok.stopIds, [261]);
    assert.equal(tok.padId, 262);
    assert.equal(tok.bosId, undefined);

    const ids = tok.encode('hello the');
    // "hell" (merge 5, id 260) + the byte "o" (id = byte value) + "Ġthe" (merge 3, id 258)
    assert.deepEqual(ids, [260, 'o'.charCodeAt(0), 258]);
    const text = 'hello the world: x² = 数 🧮';
    assert.equal(tok.decode(tok.encode(text)), text);
    assert.equal(tok.decode([...tok.encode('hi'), tok.eosId, tok.padId]), 'hi');
    assert.equal(tok.decode([]), '');
    assert.throws(() => tok.decode([tok.vocabSize]), /outside the vocabulary/);
  });

  it('pads with eos when there is no pad token, stops at every eos id of generation_config.json, prepends BOS only when asked', () => {
    const tok = hfTokenizer(tinyHfTokenizer({ eos_token: '<|endoftext|>', bos_token: '<|pad|>', add_bos_token: true }, { eos_token_id: [262, 261] }));
    assert.equal(tok.padId, tok.eosId);
    assert.deepEqual(tok.stopIds, [261, 262]);
    assert.equal(tok.bosId, 262);
    assert.throws(() => hfTokenizer(tinyHfTokenizer({})), /tokenizer_config\.json: no eos_token/);
    assert.throws(() => hfTokenizer(tinyHfTokenizer({ eos_token: '</s>' })), /eos_token "<\/s>" is not in the vocabulary/);
  });

  it('is the byte tokenizer for a model without tokenizer files', () => {
    assert.ok(tokenizerOf(undefined) instanceof ByteTokenizer);
    assert.ok(tokenizerOf({}) instanceof ByteTokenizer);
  });
});
