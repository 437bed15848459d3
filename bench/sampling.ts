/**
 * Sampling at a real vocabulary (part of `npm run bench:engine`; BENCH_ONLY=sampling runs it
 * alone) beside one KV-cache decode step of a Qwen2.5-0.5B-shaped model (random weights, 24
 * layers, d=896) at batch 1 and 8, and peak RSS. Sampling is two parts: the decode graph's
 * sampling head (weights and log-normaliser over V = 151,936, Qwen2.5's vocabulary), timed here
 * as a graph of its own over 1 and 8 rows, and sampleToken in JS per row, for temperature 1 and
 * 0.6, top-k 50 and top-p 0.95. The JS part's cost depends on the row, so it is timed on three:
 * the model's own logits (random weights: nearly flat, the worst case) and two Gaussian rows, a
 * broad and a peaked one, with the nucleus size printed beside each. Times are the fastest of
 * several, as elsewhere in bench:engine: on a shared machine a median measures the neighbours.
 */
import { Tensor } from 'onnxruntime-node';
import { createSession } from '../engine/device';
import { IncrementalDecoder } from '../engine/generate';
import { decodeGraph } from '../engine/graphs';
import { parameterShapes } from '../engine/model';
import { Rng } from '../engine/rng';
import { candidates, keptBy, sampleToken, type SamplingOptions, type TokenScores } from '../engine/sampling';
import { samplingHeadGraph } from '../engine/sampling-head';
import { numel } from '../engine/tensors';
import { QWEN25_05B } from './models';
import { PROMPT_LEN } from './train-batch';

const STEPS = 12;

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * Weights of the model's shapes, uniform with the 0.02 standard deviation of the engine's own
 * init, from a multiplicative hash (Gaussian draws for 494 M weights would take a minute of JS).
 */
function randomWeights(): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  let i = 0;
  for (const [name, dims] of Object.entries(parameterShapes(QWEN25_05B))) {
    const data = new Float32Array(numel(dims));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let j = 0; j < data.length; j++) data[j] = 0.0693 * ((Math.imul(++i, 0x9e3779b1) >>> 0) / 2 ** 32 - 0.5);
    feeds[name] = new Tensor('float32', data, dims);
  }
  return feeds;
}

/** The fastest one-token decode step (ms) at `rows` rows, and the last logits row. */
async function decodeStep(threads: number, weights: Record<string, Tensor>, rows: number): Promise<{ stepMs: number; logits: Float32Array }> {
  const session = await createSession(decodeGraph(QWEN25_05B).toModel(), { kind: 'cpu', threads });
  const V = QWEN25_05B.vocabSize;
  const prompts = Array.from({ length: rows }, (_, r) => Int32Array.from({ length: PROMPT_LEN }, (_, t) => (r * 7919 + t * 104729) % V));
  const decoder = new IncrementalDecoder((f) => session.run({ ...weights, ...f }), QWEN25_05B, prompts);
  let { logits } = await decoder.start();
  const times: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const next = Int32Array.from({ length: rows }, (_, r) => (step * 31 + r) % V);
    const t0 = process.hrtime.bigint();
    ({ logits } = await decoder.step(next));
    times.push(ms(t0));
  }
  await session.release();
  return { stepMs: Math.min(...times.slice(1)), logits: logits.slice(0, V) };
}

/** Runs the sampling head on `row` repeated `rows` times: the fastest time (ms) and the first row's scores. */
async function head(threads: number, row: Float32Array, rows: number, temperature: number): Promise<{ headMs: number; scores: TokenScores }> {
  const session = await createSession(samplingHeadGraph(row.length).toModel(), { kind: 'cpu', threads });
  const logits = new Float32Array(rows * row.length);
  for (let r = 0; r < rows; r++) logits.set(row, r * row.length);
  const feeds = { logits: new Tensor('float32', logits, [rows, row.length]), temperature: new Tensor('float32', Float32Array.of(temperature), []) };
  let out = await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(ms(t0));
  }
  await session.release();
  const scores = { logits: row, weights: (out.weights.data as Float32Array).slice(0, row.length), logNormaliser: (out.logNormaliser.data as Float32Array)[0] };
  return { headMs: Math.min(...times), scores };
}

function gaussianRow(V: number, scale: number): Float32Array {
  const rng = new Rng(scale);
  return Float32Array.from({ length: V }, () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()) * scale);
}

function samplingMs(row: TokenScores, opts: SamplingOptions): number {
  const rng = new Rng(1);
  for (let i = 0; i < 30; i++) sampleToken(row, opts, rng); // warm-up: generation calls it for every token, so timings are of optimised code
  const times = Array.from({ length: 30 }, () => {
    const t0 = process.hrtime.bigint();
    sampleToken(row, opts, rng);
    return ms(t0);
  });
  return Math.min(...times);
}

export async function benchSampling(threads: number): Promise<void> {
  const params = Object.values(parameterShapes(QWEN25_05B)).reduce((n, d) => n + numel(d), 0);
  console.log(`\nSampling at V=151,936 vs a decode step of a Qwen2.5-0.5B-shaped model (${(params / 1e6).toFixed(0)} M random weights, f32)`);
  const weights = randomWeights();
  const one = await decodeStep(threads, weights, 1);
  const eight = await decodeStep(threads, weights, 8);
  console.log(`  decode step (KV cache):  ${one.stepMs.toFixed(1)} ms at batch 1, ${eight.stepMs.toFixed(1)} ms at batch 8`);

  const V = QWEN25_05B.vocabSize;
  const heads = [await head(threads, one.logits, 1, 1), await head(threads, one.logits, 8, 1)];
  console.log(`  sampling head (in graph): ${heads[0].headMs.toFixed(2)} ms over 1 row, ${heads[1].headMs.toFixed(2)} ms over 8 (included in the step above; below, added to JS's time)`);
  const rows: [string, Float32Array][] = [
    ['the model\'s logits (flat)', one.logits],
    ['Gaussian logits, sd 2', gaussianRow(V, 2)],
    ['Gaussian logits, sd 4', gaussianRow(V, 4)],
  ];
  const cases: [string, SamplingOptions][] = [
    ['temperature 1', { temperature: 1 }],
    ['temperature 0.6', { temperature: 0.6 }],
    ['top-k 50', { temperature: 1, topK: 50 }],
    ['top-p 0.95', { temperature: 1, topP: 0.95 }],
  ];
  for (const [rowName, row] of rows) {
    const { scores } = await head(threads, row, 1, 1);
    const nucleus = candidates(scores, { temperature: 1, topP: 0.95 });
    const kept = nucleus.ids ? nucleus.ids.length : row.filter((_, t) => !nucleus.last || keptBy(row, nucleus.last)(t)).length;
    console.log(`  ${rowName} (top-p 0.95 keeps ${kept.toLocaleString('en-US')} tokens):`);
    for (const [name, opts] of cases) {
      const t = samplingMs((await head(threads, row, 1, opts.temperature)).scores, opts);
      const share = (rows: number, step: number, headMs: number) => `${((100 * (headMs + rows * t)) / step).toFixed(1)}%`;
      console.log(`    ${name.padEnd(16)} JS ${t.toFixed(2)} ms/token; with the head: 1 row ${share(1, one.stepMs, heads[0].headMs)} of a batch-1 step, 8 rows ${share(8, eight.stepMs, heads[1].headMs)} of a batch-8 step`);
    }
  }
  console.log(`  peak RSS so far:         ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
