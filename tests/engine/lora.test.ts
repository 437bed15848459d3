/**
 * LoRA in the engine: the adapted linear layer's gradient against finite differences; a LoRA
 * trainer trains only its adapters (optimizer state for them alone, base weights untouched);
 * its merged weights give the logits of the base model with the adapters applied; a LoRA
 * state saved through engine/checkpoint.ts resumes bit for bit; and the base held as session
 * initializers (as on CUDA) trains as the base fed as inputs.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { decodeTrainerState, encodeTrainerState, filesInMemory } from '../../engine/checkpoint';
import { createSession } from '../../engine/device';
import { Engine } from '../../engine/engine';
import { sftStepGraph } from '../../engine/graphs';
import { adapterInputs, adapterShapes, mergeGraph } from '../../engine/lora';
import { decoder, initParameters, lmHead, loraUpdate, parameterInputs, parameterShapes } from '../../engine/model';
import { Graph } from '../../engine/onnx/builder';
import type { OptimizerStep } from '../../engine/schedule';
import type { NamedTensors } from '../../engine/tensors';
import { ByteTokenizer } from '../../engine/tokenizer';
import type { SftBatch } from '../../engine/trainer';
import { LoraSchema } from '../../schemas/lora';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';
import type { Memory } from '../../schemas/runtime';
import { assertGradient } from './gradcheck';

const config = modelConfigSchema.parse({
  vocabSize: 259, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64, qkvBias: true,
});
const lora = LoraSchema.parse({ rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
const tok = new ByteTokenizer();
const batch: SftBatch = { sequences: [], lossMask: [] };
for (const [prompt, completion] of [['2+2=', '4'], ['capital of France? ', 'Paris'], ['hello ', 'world']]) {
  const p = tok.encode(prompt);
  const c = [...tok.encode(completion), tok.eosId];
  batch.sequences.push(Int32Array.from([tok.bosId, ...p, ...c]));
  batch.lossMask.push(Uint8Array.from([0, ...p.map(() => 0), ...c.map(() => 1)]));
}
const hp: OptimizerStep = { optimizer: OptimizerSchema.parse({ lr: 1e-2, beta2: 0.99, weightDecay: 0.01, minLrRatio: 1 }), step: 1, totalSteps: 1 };
const copy = (t: NamedTensors): NamedTensors => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { dims: [...v.dims], data: v.data.slice() }]));

test('the LoRA linear layer x W^T + b + scale (x A^T) B^T: gradients of x, W, b, A and B match finite differences', async () => {
  await assertGradient({
    inputs: {
      x: { shape: [2, 3, 5], dims: ['B', 'T', 5] },
      w: { shape: [4, 5] },
      bias: { shape: [4] },
      a: { shape: [3, 5] },
      b: { shape: [4, 3] },
    },
    build: (g, v) => g.add(g.add(g.matmul(v.x, g.transposeLast(v.w)), v.bias), loraUpdate(g, v.x, { a: v.a, b: v.b, scale: 2.5 })),
  });
});

for (const loraBase of ['inputs', 'initializers'] as const) test(`a LoRA trainer (base as ${loraBase}) trains only its adapters, and its merged weights give the logits of the base with the adapters applied`, async () => {
  const base = initParameters(config, 5);
  const engine = await Engine.start({ config, seed: 5, weights: copy(base), lora, loraBase, intraOpThreads: 1 });
  try {
    for (let i = 0; i < 3; i++) await engine.sftStep(batch, hp);
    const state = await engine.exportState();
    const adapters = state.lora!.adapters;
    // Optimizer state exists for the adapters alone.
    const shapes = adapterShapes(config, lora);
    assert.deepEqual(Object.keys(state.optimizer.m).sort(), Object.keys(shapes).sort());
    assert.deepEqual(Object.keys(state.optimizer.v).sort(), Object.keys(shapes).sort());
    assert.equal(Object.keys(shapes).length, 2 * 6 * config.numLayers);
    // B started at zero and has moved; layers not adapted (k_proj, norms, embeddings) are the base's exactly.
    assert.ok(adapters['model.layers.0.self_attn.q_proj.lora_B.weight'].data.some((x) => x !== 0));
    for (const name of Object.keys(base)) {
      const adapted = `${name.replace(/\.weight$/, '')}.lora_A.weight` in adapters;
      if (!adapted) assert.deepEqual(state.weights[name].data, base[name].data, `${name} changed`);
      else assert.ok(state.weights[name].data.some((x, i) => x !== base[name].data[i]), `${name} has no adapter update merged in`);
    }

    const merged = await logits(state.weights);
    const applied = await logits(base, adapters);
    const bare = await logits(base);
    const apart = (x: Float32Array, y: Float32Array) => x.reduce((worst, xi, i) => Math.max(worst, Math.abs(xi - y[i])), 0);
    console.log(`max |logit difference|: merged vs adapters applied ${apart(merged, applied)}, vs the base alone ${apart(merged, bare)}`);
    assert.ok(apart(merged, applied) < 1e-5, 'merged and adapter-applied logits differ');
    // The check can fail: the adapters moved the logits far more than the tolerance.
    assert.ok(apart(merged, bare) > 0.1, 'the adapters hardly changed the logits');
  } finally {
    await engine.close();
  }
});

test('a LoRA GRPO step (with the KL to its reference) moves the adapters and leaves the layers not adapted as they were', async () => {
  const base = initParameters(config, 8);
  const engine = await Engine.start({ config, seed: 8, weights: copy(base), lora, intraOpThreads: 1 });
  try {
    await engine.snapshotReference();
    const before = (await engine.exportState()).lora!.adapters;
    const oldLogprobs = await engine.logprobs(batch.sequences);
    const grpoBatch = { sequences: batch.sequences, completionMask: batch.lossMask, oldLogprobs, refLogprobs: oldLogprobs, advantages: Float32Array.of(1, -1, 0.5) };
    const metrics = await engine.grpoStep(grpoBatch, { aggregation: 'grpo', scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0.04, maxLen: 1 } }, hp);
    assert.ok(metrics.gradNorm > 0 && Number.isFinite(metrics.loss), JSON.stringify(metrics));
    const after = await engine.exportState();
    assert.deepEqual(Object.keys(after.optimizer.m).sort(), Object.keys(adapterShapes(config, lora)).sort());
    assert.ok(Object.keys(before).every((name) => after.lora!.adapters[name].data.some((x, i) => x !== before[name].data[i])), 'an adapter did not move');
    for (const name of ['model.embed_tokens.weight', 'model.layers.0.self_attn.k_proj.weight', 'model.layers.1.input_layernorm.weight', 'lm_head.weight']) {
      assert.deepEqual(after.weights[name].data, base[name].data, `${name} changed`);
    }
  } finally {
    await engine.close();
  }
});

test('a LoRA trainer saved through a checkpoint resumes with identical losses, adapters and moments', async () => {
  const base = initParameters(config, 6);
  const original = await Engine.start({ config, seed: 6, weights: copy(base), lora, intraOpThreads: 1 });
  let restored: Engine | undefined;
  try {
    for (let i = 0; i < 2; i++) await original.sftStep(batch, hp);
    const files = encodeTrainerState(await original.exportState());
    assert.ok('adapter_model.safetensors' in files);
    const loaded = await decodeTrainerState(filesInMemory(files), (c) => parameterShapes(modelConfigSchema.parse(c)));
    assert.deepEqual(loaded.lora?.config, lora);
    // The checkpoint's weights are merged; the trainer restarts from the phase's base and the saved adapters.
    restored = await Engine.start({ config, seed: 99, weights: copy(base), lora, intraOpThreads: 1 });
    await restored.importState({ config: loaded.config, weights: loaded.weights, optimizer: loaded.optimizer!, rng: loaded.rng!, lora: loaded.lora });
    for (let i = 0; i < 2; i++) {
      const a = await original.sftStep(batch, hp);
      const b = await restored.sftStep(batch, hp);
      assert.equal(b.loss, a.loss, `step ${3 + i}: resumed loss differs`);
    }
    const [sa, sb] = [await original.exportState(), await restored.exportState()];
    assert.equal(sb.optimizer.step, 4);
    for (const name of Object.keys(sa.lora!.adapters)) {
      assert.deepEqual(sb.lora!.adapters[name].data, sa.lora!.adapters[name].data, `${name} differs after resuming`);
      assert.deepEqual(sb.optimizer.m[name].data, sa.optimizer.m[name].data, `m.${name} differs after resuming`);
      assert.deepEqual(sb.optimizer.v[name].data, sa.optimizer.v[name].data, `v.${name} differs after resuming`);
    }
    for (const name of Object.keys(sa.weights)) assert.deepEqual(sb.weights[name].data, sa.weights[name].data, `merged ${name} differs`);
  } finally {
    await original.close();
    await restored?.close();
  }
});

test('a LoRA trainer refuses a state saved without LoRA, and new weights', async () => {
  const engine = await Engine.start({ config, seed: 7, lora, intraOpThreads: 1 });
  try {
    const full = await Engine.start({ config, seed: 7, intraOpThreads: 1 });
    const saved = await full.exportState();
    await full.close();
    await assert.rejects(engine.importState(saved), /lora \("none"\) differs from the trainer's/);
    await assert.rejects(engine.setWeights(saved.weights), /LoRA trainer's weights are its frozen base/);
  } finally {
    await engine.close();
  }
});

/** Logits of the batch's sequences [B, T, V] (right-padded to the longest), with the adapters applied unmerged when given. */
async function logits(weights: NamedTensors, adapters?: NamedTensors): Promise<Float32Array> {
  const g = new Graph('float32');
  const params = parameterInputs(g, config);
  const ids = g.input('ids', 'int32', ['B', 'T']);
  const positions = g.input('positions', 'int32', ['B', 'T']);
  const attentionMask = g.input('attentionMask', 'float32', ['B', 'T']);
  const applied = adapters ? adapterInputs(g, config, lora).adapters : {};
  const { hidden } = decoder(g, config, params, { ids, positions, attentionMask }, { adapters: applied });
  g.output(lmHead(g, config, params, hidden), 'logits');
  const session = await InferenceSession.create(g.toModel());
  const T = Math.max(...batch.sequences.map((s) => s.length));
  const B = batch.sequences.length;
  const [idData, posData, maskData] = [new Int32Array(B * T), new Int32Array(B * T), new Float32Array(B * T)];
  batch.sequences.forEach((s, b) => s.forEach((id, t) => {
    idData[b * T + t] = id;
    posData[b * T + t] = t;
    maskData[b * T + t] = 1;
  }));
  const feeds: Record<string, Tensor> = {
    ids: new Tensor('int32', idData, [B, T]),
    positions: new Tensor('int32', posData, [B, T]),
    attentionMask: new Tensor('float32', maskData, [B, T]),
  };
  for (const [name, t] of Object.entries({ ...weights, ...adapters })) feeds[name] = new Tensor('float32', t.data, t.dims);
  return (await session.run(feeds)).logits.data as Float32Array;
}

test('LoRA with recomputed layers, or in micro-batches, trains the same adapters as whole batches', async () => {
  const adaptersAfter = async (memory: Memory) => {
    const engine = await Engine.start({ config, seed: 5, weights: initParameters(config, 5), lora, memory, intraOpThreads: 1 });
    try {
      for (let i = 0; i < 2; i++) await engine.sftStep(batch, hp);
      return (await engine.exportState()).lora!.adapters;
    } finally {
      await engine.close();
    }
  };
  const plain = await adaptersAfter({ recompute: 'none' });
  assert.ok(plain['model.layers.1.mlp.down_proj.lora_B.weight'].data.some((x) => x !== 0), 'the adapters did not train');
  // Micro-batches of 2 split the 3 sequences 2 + 1: each part's loss share must follow its tokens.
  for (const [memory, tolerance] of [[{ recompute: 'layers' }, 1e-6], [{ recompute: 'attention' }, 1e-6], [{ recompute: 'none', microBatchSize: 2 }, 1e-2 * hp.optimizer.lr]] as const) {
    const other = await adaptersAfter(memory);
    for (const [name, t] of Object.entries(plain)) {
      const worst = t.data.reduce((w, x, i) => Math.max(w, Math.abs(x - other[name].data[i])), 0);
      assert.ok(worst < tolerance, `${JSON.stringify(memory)}: ${name} moved differently (by ${worst})`);
    }
  }
});

test('LoRA step and merge graphs with the base as initializers take no base weight as input, and their sessions leave no cache entry', async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-lora-base-'));
  try {
    const device = { kind: 'cpu', threads: 1 } as const;
    const weights = Object.keys(parameterShapes(config));
    const held = await createSession(sftStepGraph(config, { part: 'whole', recompute: 'none', lora, baseInitializers: true }).toModel(), device, { cacheDir, initializers: initParameters(config, 1) });
    assert.deepEqual(held.inputNames.filter((n) => weights.includes(n)), []);
    for (const name of Object.keys(adapterShapes(config, lora))) assert.ok(['', 'm.', 'v.'].every((p) => held.inputNames.includes(p + name)), `${name} or its moments is no input`);
    const merge = await createSession(mergeGraph(config, lora, true).toModel(), device, { cacheDir, initializers: initParameters(config, 1) });
    assert.deepEqual([...merge.inputNames].sort(), Object.keys(adapterShapes(config, lora)).sort());
    assert.deepEqual(fs.readdirSync(cacheDir), [], 'a session holding the base wrote a cache entry');
    // The same graph with the base as inputs takes every weight, and is cached.
    const fed = await createSession(sftStepGraph(config, { part: 'whole', recompute: 'none', lora }).toModel(), device, { cacheDir });
    assert.deepEqual(weights.filter((n) => !fed.inputNames.includes(n)), []);
    assert.equal(fs.readdirSync(cacheDir).length, 1);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

/**
 * Compared through the metrics of three steps, the moments after the first (the first moment
 * holds the clipped gradient itself) and the adapters after all three. Not bit for bit: onnxruntime optimises a graph with constant weights
 * otherwise (the weights' transposes folded and prepacked), which rounds differently. Adam divides
 * by sqrt(v), so adapters move by up to lr where a gradient is near zero and that rounding shows
 * there magnified: they are held to a thousandth of a step's size.
 */
test('LoRA with the base as session initializers trains the same adapters, moments and metrics as with the base as inputs (whole batches, recomputed layers, micro-batches)', async () => {
  const grpoBatch = { sequences: batch.sequences, completionMask: batch.lossMask, oldLogprobs: batch.sequences.map((s) => new Float32Array(s.length).fill(-5.5)), advantages: Float32Array.of(1, -1, 0.5) };
  const run = async (loraBase: 'inputs' | 'initializers', memory: Memory) => {
    const engine = await Engine.start({ config, seed: 5, weights: initParameters(config, 5), lora, loraBase, memory, intraOpThreads: 1 });
    try {
      const metrics: object[] = [await engine.sftStep(batch, hp)];
      const { optimizer } = await engine.exportState();
      metrics.push(await engine.sftStep(batch, hp));
      metrics.push(await engine.grpoStep({ ...grpoBatch, refLogprobs: grpoBatch.oldLogprobs }, { aggregation: 'dapo', scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0, maxLen: 1 } }, hp));
      const { adapters } = (await engine.exportState()).lora!;
      return { metrics: metrics as Record<string, number>[], adapters, moments: { ...prefixed('m.', optimizer.m), ...prefixed('v.', optimizer.v) } };
    } finally {
      await engine.close();
    }
  };
  const apart = (x: Float32Array, y: Float32Array) => x.reduce((w, xi, i) => Math.max(w, Math.abs(xi - y[i])), 0);
  for (const memory of [{ recompute: 'none' }, { recompute: 'layers' }, { recompute: 'none', microBatchSize: 2 }] as const) {
    const [fed, held] = [await run('inputs', memory), await run('initializers', memory)];
    const what = JSON.stringify(memory);
    fed.metrics.forEach((m, i) => {
      for (const [k, x] of Object.entries(m)) assert.ok(Math.abs(held.metrics[i][k] - x) <= 1e-6 * Math.max(1, Math.abs(x)), `${what} step ${i + 1} ${k}: ${held.metrics[i][k]} vs ${x}`);
    });
    let [moments, adapters] = [0, 0];
    for (const [name, t] of Object.entries(fed.moments)) {
      const relative = apart(t.data, held.moments[name].data) / Math.max(...t.data.map(Math.abs), 1e-30); // lora_A's first moments are 0 (B starts at 0)
      moments = Math.max(moments, relative);
      assert.ok(relative <= 1e-6, `${what}: ${name} differs by ${relative} of its largest entry`);
    }
    for (const [name, t] of Object.entries(fed.adapters)) {
      adapters = Math.max(adapters, apart(t.data, held.adapters[name].data));
      assert.ok(adapters <= 1e-3 * hp.optimizer.lr, `${what}: ${name} differs by ${adapters}`);
    }
    console.log(`${what}: moments apart by at most ${moments.toExponential(2)} of their largest entry, adapters by ${adapters.toExponential(2)} (lr ${hp.optimizer.lr})`);
  }
});

function prefixed(prefix: string, tensors: NamedTensors): NamedTensors {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [prefix + k, t]));
}
