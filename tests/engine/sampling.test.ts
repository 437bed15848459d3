import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../engine/rng';
import { sampleToken } from '../../engine/sampling';

const logits = Float32Array.from([1.0, 3.0, 2.5, -1.0, 0.0, 2.9]);
const logSoftmax = (i: number) => logits[i] - Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));

function draws(n: number, opts: Parameters<typeof sampleToken>[1], seed = 7): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleToken(logits, opts, rng).token);
}

describe('Rng', () => {
  it('matches the xoshiro128** reference output', () => {
    // First outputs of the reference C implementation from state {1, 2, 3, 4}.
    const rng = Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4] });
    const ints = Array.from({ length: 4 }, () => rng.next() * 2 ** 32);
    assert.deepEqual(ints, [11520, 0, 5927040, 70819200]);
  });

  it('continues the same sequence after a JSON round trip of its state', () => {
    const a = new Rng(42);
    for (let i = 0; i < 10; i++) a.next();
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.getState())));
    assert.deepEqual(Array.from({ length: 100 }, () => b.next()), Array.from({ length: 100 }, () => a.next()));
  });

  it('gives different streams for different seeds, values in [0, 1)', () => {
    const x = new Rng(1);
    const y = new Rng(2);
    const z = new Rng(2 ** 40 + 1);
    const xs = Array.from({ length: 1000 }, () => x.next());
    assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => y.next()));
    assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => z.next()));
    assert.ok(xs.every((v) => v >= 0 && v < 1));
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });

  it('refuses a malformed state', () => {
    assert.throws(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] }), /all zeros/);
    assert.throws(() => Rng.fromState({ algorithm: 'pcg32', s: [1, 2, 3, 4] } as never));
  });
});

describe('sampleToken', () => {
  it('is greedy at temperature 0 and reports the raw log-softmax', () => {
    const { token, logprob } = sampleToken(logits, { temperature: 0 }, new Rng(1));
    assert.equal(token, 1);
    assert.ok(Math.abs(logprob - logSoftmax(1)) < 1e-6);
  });

  it('is reproducible for a fixed seed and varies with the seed', () => {
    assert.deepEqual(draws(50, { temperature: 1 }), draws(50, { temperature: 1 }));
    assert.notDeepEqual(draws(50, { temperature: 1 }, 1), draws(50, { temperature: 1 }, 2));
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const n = 20000;
    for (const temperature of [1, 0.5]) {
      const z = logits.reduce((a, x) => a + Math.exp(x / temperature), 0);
      const counts = new Array<number>(logits.length).fill(0);
      for (const t of draws(n, { temperature })) counts[t]++;
      for (let i = 0; i < logits.length; i++) {
        const p = Math.exp(logits[i] / temperature) / z;
        assert.ok(Math.abs(counts[i] / n - p) < 0.015, `T=${temperature} token ${i}: ${counts[i] / n} vs ${p}`);
      }
    }
  });

  it('reports the temperature-1 log-prob whatever the temperature and filters', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 20; i++) {
      const { token, logprob } = sampleToken(logits, { temperature: 0.3, topK: 3, topP: 0.9 }, rng);
      assert.ok(Math.abs(logprob - logSoftmax(token)) < 1e-6);
    }
  });

  it('top-k keeps only the k most likely tokens', () => {
    assert.deepEqual(new Set(draws(500, { temperature: 5, topK: 2 })), new Set([1, 5]));
  });

  it('top-p keeps the smallest set reaching p', () => {
    // Sorted probabilities: token 1 0.368, 5 0.333, 2 0.223, then a 0.075 tail.
    assert.deepEqual(new Set(draws(500, { temperature: 1, topP: 0.6 })), new Set([1, 5]));
    assert.deepEqual(new Set(draws(500, { temperature: 1, topP: 0.75 })), new Set([1, 5, 2]));
    assert.deepEqual(new Set(draws(50, { temperature: 1, topP: 0.01 })), new Set([1]));
  });

  it('is stable for huge logits and ignores -Infinity entries', () => {
    const big = Float32Array.from([1e30, 1e30 - 1e24, -Infinity]);
    const { token, logprob } = sampleToken(big, { temperature: 1 }, new Rng(5));
    assert.ok(token === 0 || token === 1);
    assert.ok(Number.isFinite(logprob) && logprob <= 0);
    assert.notEqual(sampleToken(Float32Array.from([-Infinity, 0]), { temperature: 1 }, new Rng(5)).token, 0);
  });

  it('refuses NaN logits and bad options', () => {
    assert.throws(() => sampleToken(Float32Array.from([0, NaN]), { temperature: 1 }, new Rng(1)), /NaN at index 1/);
    assert.throws(() => sampleToken(Float32Array.from([-Infinity]), { temperature: 1 }, new Rng(1)), /no finite value/);
    assert.throws(() => sampleToken(logits, { temperature: -1 }, new Rng(1)), /temperature/);
    assert.throws(() => sampleToken(logits, { temperature: 1, topK: 0 }, new Rng(1)), /topK/);
    assert.throws(() => sampleToken(logits, { temperature: 1, topP: 0 }, new Rng(1)), /topP/);
  });
});
