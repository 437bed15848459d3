import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ByteTokenizer, loadHfTokenizer } from '../../engine/tokenizer';

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

/** A tiny byte-level BPE tokenizer.json in the Hugging Face format, with a few merges. */
function writeTinyHfTokenizer(dir: string, config?: object): void {
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
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  if (config) fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}

describe('loadHfTokenizer', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-tok-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const tmp = () => fs.mkdtempSync(path.join(root, 'case-'));

  it('loads a tokenizer.json folder, applies merges and round-trips text', () => {
    const dir = tmp();
    writeTinyHfTokenizer(dir, { eos_token: '<|endoftext|>', pad_token: { content: '<|pad|>' }, bos_token: null, clean_up_tokenization_spaces: false });
    const tok = loadHfTokenizer(dir);
    assert.equal(tok.vocabSize, 256 + 5 + 2);
    assert.equal(tok.eosId, 261);
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

  it('takes a tokenizer.json path without a config when given the eos token, padding with eos', () => {
    const dir = tmp();
    writeTinyHfTokenizer(dir);
    const file = path.join(dir, 'tokenizer.json');
    assert.throws(() => loadHfTokenizer(file), /no eos token/);
    const tok = loadHfTokenizer(file, { eosToken: '<|endoftext|>' });
    assert.equal(tok.padId, tok.eosId);
    assert.throws(() => loadHfTokenizer(file, { eosToken: '</s>' }), /eos token "<\/s>" is not in the vocabulary/);
  });
});
