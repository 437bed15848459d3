import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Rng } from '../../engine/rng';
import { candidates, keptBy, sampleToken, type Candidates, type SamplingOptions, type TokenScores } from '../../engine/sampling';
import { samplingHeadGraph } from '../../engine/sampling-head';

const logits = Float32Array.from([1.0, 3.0, 2.5, -1.0, 0.0, 2.9]);
const logSoftmax = (i: number) => logits[i] - Math.log(logits.reduce((a, x) => a + Math.exp(x), 0));

/**
 * What the decode graph's sampling head computes (sampling-head.ts), in plain JS: weights at the
 * options' temperature (1 for greedy), the temperature-1 log-normaliser.
 */
function scoresOf(row: Float32Array, { temperature }: SamplingOptions): TokenScores {
  const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
  const T = temperature || 1;
  return {
    logits: row,
    weights: row.map((x) => Math.exp((x - max) / T)),
    logNormaliser: max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)),
  };
}

function draws(n: number, opts: SamplingOptions, seed = 7): number[] {
  const rng = new Rng(seed);
  const scores = scoresOf(logits, opts);
  return Array.from({ length: n }, () => sampleToken(scores, opts, rng).token);
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
    const { token, logprob } = sampleToken(scoresOf(logits, { temperature: 0 }), { temperature: 0 }, new Rng(1));
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
      for (const opts of [{ temperature: 0.3, topK: 3, topP: 0.9 }, { temperature: 0.3, topP: 0.9 }, { temperature: 1.5 }]) {
        const { token, logprob } = sampleToken(scoresOf(logits, opts), opts, rng);
        assert.ok(Math.abs(logprob - logSoftmax(token)) < 1e-6);
      }
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
    const { token, logprob } = sampleToken(scoresOf(big, { temperature: 1 }), { temperature: 1 }, new Rng(5));
    assert.ok(token === 0 || token === 1);
    assert.ok(Number.isFinite(logprob) && logprob <= 0);
    for (const opts of [{ temperature: 1 }, { temperature: 1, topP: 0.99 }, { temperature: 1, topK: 2 }]) {
      assert.notEqual(sampleToken(scoresOf(Float32Array.from([-Infinity, 0]), opts), opts, new Rng(5)).token, 0);
    }
  });

  it('refuses NaN logits and bad options', () => {
    const one = { temperature: 1 };
    assert.throws(() => sampleToken(scoresOf(Float32Array.from([0, NaN]), one), one, new Rng(1)), /NaN at index 1/);
    assert.throws(() => sampleToken(scoresOf(Float32Array.from([0, Infinity]), one), one, new Rng(1)), /\+Infinity at index 1/);
    assert.throws(() => sampleToken(scoresOf(Float32Array.from([-Infinity]), one), one, new Rng(1)), /no finite value/);
    const scores = scoresOf(logits, one);
    assert.throws(() => sampleToken(scores, { temperature: -1 }, new Rng(1)), /temperature/);
    assert.throws(() => sampleToken(scores, { temperature: 1, topK: 0 }, new Rng(1)), /topK/);
    assert.throws(() => sampleToken(scores, { temperature: 1, topP: 0 }, new Rng(1)), /topP/);
  });
});

/**
 * The selection by its definition: sort the whole vocabulary best first (ties by lower id), cut to
 * k, weigh, cut to the nucleus; every token by id when nothing cuts. Top-k weighs its k tokens
 * exp((logit - max) / temperature) in float64; otherwise the weights are the row's own.
 */
function referenceCandidates(row: TokenScores, { temperature, topK, topP }: SamplingOptions): { ids: number[]; weights: number[]; total: number } {
  const { logits } = row;
  const max = logits.reduce((m, x) => Math.max(m, x), -Infinity);
  const cutTopK = topK !== undefined && topK < logits.length;
  const cutTopP = topP !== undefined && topP < 1;
  const ids = Array.from(logits.keys());
  if (cutTopK || cutTopP) {
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    if (cutTopK) ids.length = topK;
  }
  const weights = ids.map((t) => (cutTopK ? Math.exp((logits[t] - max) / temperature) : row.weights[t]));
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

/** The tokens a draw chooses among, in the order it walks them. */
function walked(row: TokenScores, c: Candidates): number[] {
  if (c.ids) return Array.from(c.ids);
  const kept = c.last ? keptBy(row.logits, c.last) : () => true;
  return Array.from(row.logits.keys()).filter(kept);
}

/**
 * The kept set is exactly the reference's; top-k's list also in the same order with the same
 * weights. A nucleus over the row's weights is summed in another order than best first, so its
 * total agrees to rounding only.
 */
function assertSameSelection(row: TokenScores, opts: SamplingOptions, label: string): void {
  const want = referenceCandidates(row, opts);
  const got = candidates(row, opts);
  const ids = walked(row, got);
  if (got.ids) {
    assert.deepEqual(ids, want.ids, `${label}: kept ids`);
    assert.deepEqual(Array.from(got.weights), want.weights, `${label}: weights`);
    assert.equal(got.total, want.total, `${label}: total`);
  } else {
    assert.deepEqual(ids, [...want.ids].sort((a, b) => a - b), `${label}: kept ids`);
    assert.ok(Math.abs(got.total - want.total) <= 1e-12 * want.total, `${label}: total ${got.total} vs ${want.total}`);
  }
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

  it('keeps the same tokens as a full sort; top-k in the same order, with the same weights', () => {
    for (const [name, row] of rows) for (const opts of options) assertSameSelection(scoresOf(row, opts), opts, `${name} ${JSON.stringify(opts)}`);
  });

  it('draws by walking the kept tokens (top-k best first, else by id) with one random number per token', () => {
    for (const [name, row] of rows) {
      for (const opts of options) {
        const rng = new Rng(11);
        const mirror = new Rng(11);
        const scores = scoresOf(row, opts);
        const c = candidates(scores, opts);
        const ids = walked(scores, c);
        const weights = c.ids ? Array.from(c.weights) : ids.map((t) => scores.weights[t]);
        for (let i = 0; i < 20; i++) {
          let u = mirror.next() * c.total;
          const expected = ids.find((_, j) => (u -= weights[j]) < 0) ?? ids.at(-1)!;
          const { token, logprob } = sampleToken(scores, opts, rng);
          assert.equal(token, expected, `${name} ${JSON.stringify(opts)} draw ${i}`);
          assert.equal(logprob, row[token] - scores.logNormaliser, `${name} ${JSON.stringify(opts)} draw ${i}: log-prob`);
        }
        assert.deepEqual(rng.getState(), mirror.getState());
      }
    }
  });

  it('keeps the same nucleus and top-k at a 151,936-token vocabulary', () => {
    for (const [scale, seed] of [[0.05, 7], [1, 5], [4, 6]]) {
      const row = gaussianRow(151_936, scale, seed);
      for (const opts of [{ temperature: 1, topP: 0.95 }, { temperature: 0.6, topP: 0.95 }, { temperature: 1, topK: 50 }, { temperature: 0.7, topK: 20, topP: 0.8 }]) {
        assertSameSelection(scoresOf(row, opts), opts, `scale ${scale} ${JSON.stringify(opts)}`);
      }
    }
  });

  it('treats topP = 1 and topK >= V as no filter: every token, by id', () => {
    for (const opts of [{ temperature: 1, topP: 1 }, { temperature: 1, topK: 6 }, { temperature: 1, topK: 99 }]) {
      const scores = scoresOf(logits, opts);
      const all = candidates(scores, opts);
      assert.equal(all.ids, undefined);
      assert.deepEqual(walked(scores, all), [0, 1, 2, 3, 4, 5]);
    }
  });

  it('is greedy at temperature 0 whatever the filters, lowest id on ties, using no random number', () => {
    const rng = new Rng(4);
    const before = rng.getState();
    const tied = Float32Array.from([0, 2, 1, 2]);
    for (const opts of [{ temperature: 0 }, { temperature: 0, topK: 2 }, { temperature: 0, topP: 0.3 }]) assert.equal(sampleToken(scoresOf(tied, opts), opts, rng).token, 1);
    assert.deepEqual(rng.getState(), before);
  });
});

describe('the decode graph\'s sampling head (onnxruntime)', () => {
  /** The head's scores for each row at `temperature`. */
  async function headScores(rows: Float32Array[], temperature: number): Promise<TokenScores[]> {
    const V = rows[0].length;
    const session = await InferenceSession.create(samplingHeadGraph(V).toModel());
    const logits = new Float32Array(rows.length * V);
    rows.forEach((row, r) => logits.set(row, r * V));
    const out = await session.run({ logits: new Tensor('float32', logits, [rows.length, V]), temperature: new Tensor('float32', Float32Array.of(temperature), []) });
    await session.release();
    const weights = out.weights.data as Float32Array;
    const logNormalisers = out.logNormaliser.data as Float32Array;
    return rows.map((row, r) => ({ logits: row, weights: weights.subarray(r * V, (r + 1) * V), logNormaliser: logNormalisers[r] }));
  }

  const V = 151_936;
  const big = [gaussianRow(V, 0.05, 21), gaussianRow(V, 1, 22), gaussianRow(V, 4, 23).map((x, t) => (t % 97 === 0 ? -Infinity : x + 30))];

  it('weighs each token exp((logit - max) / temperature) and gives log Σ exp(logits), as plain float64 arithmetic does', async () => {
    for (const temperature of [0.6, 1, 2]) {
      const scores = await headScores(big, temperature);
      scores.forEach(({ logits: row, weights, logNormaliser }, r) => {
        const want = scoresOf(row, { temperature });
        const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
        for (let t = 0; t < V; t++) {
          // float32 rounding of (logit - max) / temperature moves exp by that many ulps of it
          const exponent = (max - row[t]) / temperature;
          const err = Math.abs(weights[t] - want.weights[t]);
          const tolerance = want.weights[t] === 0 ? 0 : 3e-7 * (1 + exponent) * want.weights[t] + 1e-37;
          assert.ok(err <= tolerance, `T=${temperature} row ${r} token ${t}: weight ${weights[t]} vs ${want.weights[t]}`);
        }
        assert.ok(Math.abs(logNormaliser - want.logNormaliser) < 1e-4, `T=${temperature} row ${r}: log-normaliser ${logNormaliser} vs ${want.logNormaliser}`);
      });
    }
  });

  it('gives log-probs of sampled tokens equal to a plain log-softmax', async () => {
    const rng = new Rng(31);
    for (const opts of [{ temperature: 1 }, { temperature: 0.6, topP: 0.95 }, { temperature: 1, topK: 50 }, { temperature: 0 }]) {
      for (const row of await headScores(big, opts.temperature || 1)) {
        const want = scoresOf(row.logits, opts).logNormaliser;
        for (let i = 0; i < 10; i++) {
          const { token, logprob } = sampleToken(row, opts, rng);
          assert.ok(Math.abs(logprob - (row.logits[token] - want)) < 1e-4, `${JSON.stringify(opts)} token ${token}: ${logprob} vs ${row.logits[token] - want}`);
        }
      }
    }
  });

  it('keeps exactly the top-k and nucleus a full sort keeps over its weights', async () => {
    for (const opts of [{ temperature: 1, topP: 0.95 }, { temperature: 0.6, topP: 0.9 }, { temperature: 1, topK: 50 }, { temperature: 0.7, topK: 20, topP: 0.8 }]) {
      (await headScores(big, opts.temperature)).forEach((row, r) => assertSameSelection(row, opts, `row ${r} ${JSON.stringify(opts)}`));
    }
  });

  it('draws tokens in proportion to softmax(logits / temperature) over the kept set', async () => {
    const row = Float32Array.from([1.0, 3.0, 2.5, -1.0, 0.0, 2.9, 0.5, -Infinity, 2.0, 1.5]);
    const n = 40_000;
    for (const opts of [{ temperature: 1 }, { temperature: 0.6 }, { temperature: 1.5, topK: 4 }, { temperature: 1, topP: 0.8 }, { temperature: 0.7, topP: 0.9 }]) {
      const [scores] = await headScores([row], opts.temperature);
      const kept = new Set(referenceCandidates(scoresOf(row, opts), opts).ids);
      const z = [...kept].reduce((a, t) => a + Math.exp(row[t] / opts.temperature), 0);
      const counts = new Array<number>(row.length).fill(0);
      const rng = new Rng(17);
      for (let i = 0; i < n; i++) counts[sampleToken(scores, opts, rng).token]++;
      for (let t = 0; t < row.length; t++) {
        const p = kept.has(t) ? Math.exp(row[t] / opts.temperature) / z : 0;
        const tolerance = 5 * Math.sqrt((p * (1 - p)) / n); // five standard deviations
        assert.ok(Math.abs(counts[t] / n - p) <= tolerance, `${JSON.stringify(opts)} token ${t}: ${counts[t] / n} vs ${p}`);
      }
    }
  });
});
