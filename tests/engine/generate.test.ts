/**
 * Generation: cached decoding gives the logits of full recomputation (within 1e-4), seeded
 * sampling is reproducible, behaviour log-probs agree with the log-prob graph, and the loop
 * stops on EOS, stop strings and maxNewTokens.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import * as trainer from '../../engine/trainer';
import { IncrementalDecoder, RunDecode, generate } from '../../engine/generate';
import { decodeGraph } from '../../engine/graphs';
import { initParameters } from '../../engine/model';
import { Rng } from '../../engine/rng';
import { ByteTokenizer, type Tokenizer } from '../../engine/tokenizer';
import { modelConfigSchema } from '../../schemas/model';

const config = modelConfigSchema.parse({
  vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64, qkvBias: true,
});
const prompts = [Int32Array.from([257, 10, 20, 30, 40, 50]), Int32Array.from([257, 7]), Int32Array.from([257, 1, 2, 3])];

test('KV-cache decoding gives the logits of full recomputation', async () => {
  // Larger weights than the 0.02 init make the attention pattern (and any mistake in it) matter.
  const weights = initParameters(config, 3);
  for (const t of Object.values(weights)) if (t.dims.length === 2) t.data.forEach((x, i) => (t.data[i] = x * 20));
  const session = await InferenceSession.create(decodeGraph(config).toModel());
  const feeds: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(weights)) feeds[k] = new Tensor('float32', t.data, t.dims);
  const run: RunDecode = (f) => session.run({ ...feeds, ...f });
  const cached = new IncrementalDecoder(run, config, prompts, true);
  const full = new IncrementalDecoder(run, config, prompts, false);
  let [a, b] = [(await cached.start()).logits, (await full.start()).logits];
  // 40 steps: the cache buffers grow (by 32-slot chunks) along the way.
  for (let step = 0; step < 40; step++) {
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-4, `step ${step}: cached and recomputed logits differ by ${worst}`);
    const next = Int32Array.from(prompts, (_, r) => (step * 31 + r * 17) % 256);
    [a, b] = [(await cached.step(next)).logits, (await full.step(next)).logits];
  }
});

test('rows kept after others finish give the logits they had in the full batch', async () => {
  const session = await InferenceSession.create(decodeGraph(config).toModel());
  const feeds: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(initParameters(config, 6))) feeds[k] = new Tensor('float32', t.data.map((x) => x * 20), t.dims);
  const run: RunDecode = (f) => session.run({ ...feeds, ...f });
  const V = config.vocabSize;
  for (const useCache of [true, false]) {
    const all = new IncrementalDecoder(run, config, prompts, useCache);
    const kept = new IncrementalDecoder(run, config, prompts, useCache);
    let [a, b] = [(await all.start()).logits, (await kept.start()).logits];
    for (let step = 0; step < 36; step++) {
      const next = Int32Array.from(prompts, (_, r) => (step * 29 + r * 13) % 256);
      if (step === 3) kept.retain([0, 2]);
      const rows = step >= 3 ? [0, 2] : [0, 1, 2];
      [a, b] = [(await all.step(next)).logits, (await kept.step(Int32Array.from(rows, (r) => next[r]))).logits];
      rows.forEach((r, j) => {
        for (let i = 0; i < V; i++) assert.ok(Math.abs(a[r * V + i] - b[j * V + i]) < 1e-4, `cache ${useCache}, step ${step}, row ${r}, logit ${i}: ${a[r * V + i]} vs ${b[j * V + i]}`);
      });
    }
  }
});

test('left padding does not change a prompt\'s logits', async () => {
  const session = await InferenceSession.create(decodeGraph(config).toModel());
  const feeds: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(initParameters(config, 4))) feeds[k] = new Tensor('float32', t.data.map((x) => x * 20), t.dims);
  const run: RunDecode = (f) => session.run({ ...feeds, ...f });
  const alone = (await new IncrementalDecoder(run, config, [prompts[1]]).start()).logits;
  const batched = (await new IncrementalDecoder(run, config, prompts).start()).logits;
  const row = batched.subarray(config.vocabSize, 2 * config.vocabSize);
  for (let i = 0; i < alone.length; i++) assert.ok(Math.abs(alone[i] - row[i]) < 1e-4, `logit ${i}: ${alone[i]} vs ${row[i]}`);
});

test('seeded sampling is reproducible and its log-probs match the log-prob graph', async () => {
  await trainer.init({ config, seed: 5, device: { kind: 'cpu', threads: 1 } });
  // Top-k draws from its own list; top-p alone and plain temperature from the graph's weights.
  for (const sampling of [{ temperature: 1, topP: 0.95, topK: 50 }, { temperature: 0.7, topP: 0.9 }, { temperature: 1.3 }]) {
    const opts = { maxNewTokens: 12, ...sampling, seed: 123 };
    const first = await trainer.generate(prompts, opts);
    const again = await trainer.generate(prompts, opts);
    const other = await trainer.generate(prompts, { ...opts, seed: 124 });
    assert.deepEqual(again.map((g) => Array.from(g.tokens)), first.map((g) => Array.from(g.tokens)));
    assert.notDeepEqual(other.map((g) => Array.from(g.tokens)), first.map((g) => Array.from(g.tokens)));

    const sequences = first.map((g, i) => Int32Array.from([...prompts[i], ...g.tokens]));
    const recomputed = await trainer.logprobs(sequences);
    first.forEach((g, i) => {
      const tail = recomputed[i].subarray(prompts[i].length);
      g.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - tail[j]) < 1e-4, `${JSON.stringify(sampling)} sample ${i} token ${j}: ${lp} vs ${tail[j]}`));
    });
  }
});

/**
 * A fake model that spells out a script per prompt, one token per step. Finished rows leave the
 * batch, so a row's prompt is told by its position: prompt length - 1 + step.
 */
function scripted(vocabSize: number, scripts: number[][]): { run: RunDecode; batchSizes: number[] } {
  let step = 0;
  const batchSizes: number[] = [];
  const run: RunDecode = async (feeds) => {
    const [B, T] = feeds.positions.dims;
    const positions = feeds.positions.data as Int32Array;
    batchSizes.push(B);
    const logits = new Float32Array(B * vocabSize);
    for (let b = 0; b < B; b++) {
      const prompt = prompts.findIndex((p) => p.length - 1 + step === positions[b * T + T - 1]);
      logits[b * vocabSize + (scripts[prompt][step] ?? 0)] = 50;
    }
    step++;
    // What the decode graph's sampling head adds (at temperature 1: greedy decoding feeds that).
    const weights = logits.map((x) => Math.exp(x - 50));
    const logNormaliser = Float32Array.from({ length: B }, (_, b) => 50 + Math.log(weights.subarray(b * vocabSize, (b + 1) * vocabSize).reduce((a, w) => a + w, 0)));
    return {
      logits: new Tensor('float32', logits, [B, vocabSize]),
      weights: new Tensor('float32', weights, [B, vocabSize]),
      logNormaliser: new Tensor('float32', logNormaliser, [B]),
    };
  };
  return { run, batchSizes };
}

test('generation stops at EOS, at a stop string, or at maxNewTokens', async () => {
  const tok = new ByteTokenizer();
  const { run, batchSizes } = scripted(tok.vocabSize, [[...tok.encode('ab'), tok.eosId], tok.encode('x</answer>yz'), tok.encode('long text and more')]);
  const out = await generate(run, config, tok, prompts, { maxNewTokens: 12, temperature: 0, stopStrings: ['</answer>'] }, new Rng(1));
  assert.deepEqual(out.map((g) => [g.text, g.finishReason, g.tokens.length]), [
    ['ab', 'eos', 3],
    ['x</answer>', 'stop', 10],
    ['long text an', 'length', 12],
  ]);
  assert.deepEqual(batchSizes, [3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1, 1]);
});

test('generation stops at every EOS id of the tokenizer', async () => {
  const bytes = new ByteTokenizer();
  // Two end tokens, as an instruct model's <|im_end|> and <|endoftext|>: the pad id stands in for the second.
  const tok: Tokenizer = { ...bytes, stopIds: [bytes.eosId, bytes.padId], encode: (t) => bytes.encode(t), decode: (ids) => bytes.decode(ids) };
  const { run } = scripted(tok.vocabSize, [[...tok.encode('ab'), tok.eosId], [...tok.encode('cd'), tok.padId], tok.encode('efghij')]);
  const out = await generate(run, config, tok, prompts, { maxNewTokens: 5, temperature: 0 }, new Rng(1));
  assert.deepEqual(out.map((g) => [g.text, g.finishReason, Array.from(g.tokens).at(-1)]), [
    ['ab', 'eos', tok.eosId],
    ['cd', 'eos', tok.padId],
    ['efghi', 'length', tok.encode('i')[0]],
  ]);
});
