/**
 * The token-by-token stop-string watch finds a stop string at the very token the whole decoded
 * text first holds it, whatever the tokens split: strings across tokens, characters across
 * tokens (byte-level), spaces a token shows only after another (sentencepiece's Metaspace).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../engine/rng';
import { firstStop, StopStrings } from '../../engine/stop-strings';
import { ByteTokenizer, hfTokenizer, type Tokenizer } from '../../engine/tokenizer';

/** The token at which a stop string first appears in the decoded text, by decoding every prefix. */
function reference(tok: Tokenizer, ids: number[], stops: string[]): number | undefined {
  const at = ids.findIndex((_, n) => firstStop(tok.decode(ids.slice(0, n + 1)), stops) !== undefined);
  return at < 0 ? undefined : at;
}

function watched(tok: Tokenizer, ids: number[], stops: string[]): number | undefined {
  const watch = new StopStrings(tok, stops);
  const at = ids.findIndex((id) => watch.push(id));
  return at < 0 ? undefined : at;
}

/** A sentencepiece-style tokenizer (Metaspace decoder: "▁" is a space, dropped at the start of a text). */
function metaspaceTokenizer(pieces: string[]): Tokenizer {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const vocab = Object.fromEntries(['<s>', '</s>', ...pieces].map((p, i) => [p, i]));
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return hfTokenizer({
    'tokenizer.json': json({
      version: '1.0', truncation: null, padding: null,
      added_tokens: [special(0, '<s>'), special(1, '</s>')],
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] },
    }),
    'tokenizer_config.json': json({ eos_token: '</s>', bos_token: '<s>', clean_up_tokenization_spaces: false }),
  });
}

describe('StopStrings', () => {
  const bytes = new ByteTokenizer();

  it('finds a stop string spelled across tokens at the token that completes it', () => {
    const ids = bytes.encode('so x</answer> and on');
    assert.equal(watched(bytes, ids, ['</answer>']), 'so x</answer>'.length - 1);
    assert.equal(watched(bytes, ids, ['nothing like it']), undefined);
    // The earliest end among several stop strings.
    assert.equal(watched(bytes, ids, ['and', 'x</']), 'so x</'.length - 1);
  });

  it('sees a multi-byte character only once all its bytes are in', () => {
    const ids = bytes.encode('a → b 🧮 c');
    assert.equal(watched(bytes, ids, ['→']), 'a →'.length - 1 + 2); // the arrow is 3 bytes
    assert.equal(watched(bytes, ids, ['🧮 c']), ids.length - 1);
    // Special tokens decode to nothing, and an EOS between the bytes does not hide a stop string.
    assert.equal(watched(bytes, [...bytes.encode('ab'), bytes.eosId, ...bytes.encode('c')], ['abc']), 3);
  });

  it('agrees with decoding the whole completion after every token, on random byte-level tokens', () => {
    const rng = new Rng(3);
    const pieces = ['a', ' b', 'é', '→', '🧮', '</', 'answer', '>'].map((s) => bytes.encode(s));
    for (let trial = 0; trial < 200; trial++) {
      const ids: number[] = [];
      while (ids.length < 40) {
        const r = rng.next();
        // Mostly whole characters, sometimes a lone byte (characters split or left invalid), or a special token.
        if (r < 0.7) ids.push(...pieces[Math.floor(rng.next() * pieces.length)]);
        else if (r < 0.95) ids.push(Math.floor(rng.next() * 256));
        else ids.push(bytes.eosId);
      }
      const text = bytes.decode(ids);
      const from = Math.floor(rng.next() * text.length);
      const stops = [text.slice(from, from + 1 + Math.floor(rng.next() * 6)), '</answer>'];
      assert.equal(watched(bytes, ids, stops), reference(bytes, ids, stops), `trial ${trial}: ${JSON.stringify(stops)} in ${JSON.stringify(text)}`);
    }
  });

  it('keeps the spaces a token shows only after another (sentencepiece)', () => {
    const pieces = ['▁the', '▁end', '▁of', 'it', '▁', '.'];
    const tok = metaspaceTokenizer(pieces);
    const id = (p: string) => pieces.indexOf(p) + 2;
    const ids = ['▁the', '▁end', '▁of', 'it', '.'].map(id);
    assert.equal(tok.decode(ids), 'the end ofit.');
    assert.equal(watched(tok, ids, [' end']), 1);
    assert.equal(watched(tok, ids, ['the end of']), 2);
    assert.equal(watched(tok, ids, ['ofit.']), 4);
    const rng = new Rng(8);
    for (let trial = 0; trial < 100; trial++) {
      const random = Array.from({ length: 25 }, () => Math.floor(rng.next() * (pieces.length + 2)));
      const text = tok.decode(random);
      const from = Math.floor(rng.next() * text.length);
      const stops = [text.slice(from, from + 2 + Math.floor(rng.next() * 5))];
      assert.equal(watched(tok, random, stops), reference(tok, random, stops), `trial ${trial}: ${JSON.stringify(stops)} in ${JSON.stringify(text)}`);
    }
  });
});
