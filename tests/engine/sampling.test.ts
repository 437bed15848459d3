import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../engine/rng';
import { candidates, sampleToken, type SamplingOptions } from '../../engine/sampling';

const logits = Float32Array.from([1.0, 3.0, 2.5, -1.0, 0.0, 2.9]);
const logSoftmax = (i: number) => logits[i] - Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));

function draws(n: number, opts: SamplingOptions, seed = 7): number[] {
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

/**
 * The selection as it was defined before partial selection: sort the whole vocabulary best first
 * (ties by lower id), cut to k, weigh, cut to the nucleus; every token by id when nothing cuts.
 */
function referenceCandidates(logits: Float32Array, { temperature, topK, topP }: SamplingOptions): { ids: number[]; weights: number[]; total: number } {
  const max = logits.reduce((m, x) => Math.max(m, x), -Infinity);
  const cutTopP = topP !== undefined && topP < 1;
  const ids = Array.from(logits.keys());
  if ((topK !== undefined && topK < logits.length) || cutTopP) {
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    if (topK !== undefined && topK < logits.length) ids.length = topK;
  }
  const weights = ids.map((t) => Math.exp((logits[t] - max) / temperature));
  if (cutTopP) {
    const total = weights.reduce((a, b) => a + b, 0);
    let cumulative = 0;
    let keep = 0;
    while (keep < weights.length && cumulative < topP * total) cumulative += weights[keep++];
    ids.length = weights.length = keep;
  }
  return { ids, weights, total: weights.reduce((a, b) => a + b, 0) };
}

function gaussianRow(V: number, scale: number, seed: number, round = false): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: V }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()) * scale;
    return round ? Math.round(z) : z;
  });
}

function assertSameSelection(logits: Float32Array, opts: SamplingOptions, label: string): void {
  const want = referenceCandidates(logits, opts);
  const got = candidates(logits, opts, logits.reduce((m, x) => Math.max(m, x), -Infinity));
  assert.deepEqual(Array.from(got.ids ?? logits.keys()), want.ids, `${label}: kept ids`);
  assert.deepEqual(Array.from(got.weights), want.weights, `${label}: weights`);
  assert.equal(got.total, want.total, `${label}: total`);
}

describe('sampleToken selection without sorting the vocabulary', () => {
  const rows: [string, Float32Array][] = [
    ['the six logits', logits],
    ['50 gaussian logits', gaussianRow(50, 2, 1)],
    ['1000 flat logits', gaussianRow(1000, 0.1, 2)],
    ['1000 peaked logits', gaussianRow(1000, 6, 3)],
    ['300 logits with many ties', gaussianRow(300, 2, 4, true)],
    ['ties and -Infinity', Float32Array.from([2, 0, -Infinity, 2, -0, 1, 2, -Infinity, 0, 1])],
    ['all equal (prefix sums land exactly on p * total)', new Float32Array(8).fill(0.5)],
    ['one token', Float32Array.from([3])],
  ];
  const options: SamplingOptions[] = [];
  for (const temperature of [0.3, 1, 2.5]) {
    for (const topK of [undefined, 1, 3, 7, 1_000, 1_000_000]) {
      for (const topP of [undefined, 0.01, 0.25, 0.5, 0.9, 0.95, 1]) options.push({ temperature, ...(topK && { topK }), ...(topP && { topP }) });
    }
  }

  it('keeps the same tokens, in the same order, with the same weights as a full sort', () => {
    for (const [name, row] of rows) for (const opts of options) assertSameSelection(row, opts, `${name} ${JSON.stringify(opts)}`);
  });

  it('draws the same tokens, with the same log-probs, from the same seed as a full sort, using one random number per token', () => {
    for (const [name, row] of rows) {
      for (const opts of options) {
        const rng = new Rng(11);
        const mirror = new Rng(11);
        const want = referenceCandidates(row, opts);
        const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
        const logNormaliser = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        for (let i = 0; i < 20; i++) {
          let u = mirror.next() * want.total;
          const expected = want.ids.find((_, j) => (u -= want.weights[j]) < 0) ?? want.ids.at(-1)!;
          const { token, logprob } = sampleToken(row, opts, rng);
          assert.equal(token, expected, `${name} ${JSON.stringify(opts)} draw ${i}`);
          assert.equal(logprob, row[token] - logNormaliser, `${name} ${JSON.stringify(opts)} draw ${i}: log-prob`);
        }
        assert.deepEqual(rng.getState(), mirror.getState());
      }
    }
  });

  it('keeps the same nucleus and top-k at a 151,936-token vocabulary', () => {
    for (const [scale, seed] of [[1, 5], [4, 6]]) {
      const row = gaussianRow(151_936, scale, seed);
      for (const opts of [{ temperature: 1, topP: 0.95 }, { temperature: 0.6, topP: 0.95 }, { temperature: 1, topK: 50 }, { temperature: 0.7, topK: 20, topP: 0.8 }]) {
        assertSameSelection(row, opts, `scale ${scale} ${JSON.stringify(opts)}`);
      }
    }
  });

  it('treats topP = 1 and topK >= V as no filter: every token, by id', () => {
    for (const opts of [{ temperature: 1, topP: 1 }, { temperature: 1, topK: 6 }, { temperature: 1, topK: 99 }]) {
      const all = candidates(logits, opts, 3);
      assert.equal(all.ids, undefined);
      assert.equal(all.weights.length, 6);
    }
  });

  it('is greedy at temperature 0 whatever the filters, lowest id on ties, using no random number', () => {
    const rng = new Rng(4);
    const before = rng.getState();
    const tied = Float32Array.from([0, 2, 1, 2]);
    for (const opts of [{ temperature: 0 }, { temperature: 0, topK: 2 }, { temperature: 0, topP: 0.3 }]) assert.equal(sampleToken(tied, opts, rng).token, 1);
    assert.deepEqual(rng.getState(), before);
  });
});
