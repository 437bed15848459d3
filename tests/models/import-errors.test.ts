/**
 * `r1 import` on bad inputs: each gets an error naming the file and the field, and nothing is
 * committed (no object at all is written under the model's name). Also the config formats and
 * architectures it accepts, from small folders made here.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { importModel } from '../../cli/import-model';
import { loadTrainerState } from '../../activities/model-checkpoints';
import { initParameters } from '../../engine/model';
import { writeSafetensors } from '../../engine/safetensors';
import { projectRoot } from '../../infra/local/paths';
import { modelConfigSchema, type ModelConfig } from '../../schemas/model';
import { s3Env } from '../../schemas/environment';
import { ArtifactStore } from '../../storage/artifact-store';
import { ensureStack } from '../helpers/stack';

let store: ArtifactStore;
const root = mkdtempSync(join(tmpdir(), 'r1-import-'));

before(async () => {
  await ensureStack();
  store = ArtifactStore.fromEnv({ ...s3Env(), prefix: `test-${randomUUID()}/` });
});
after(() => rmSync(root, { recursive: true, force: true }));

const tiny = modelConfigSchema.parse({ vocabSize: 32, hiddenSize: 8, intermediateSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, maxSeqLen: 64, tieEmbeddings: false });

/** A Hugging Face folder: config.json as given, the weights of `cfg` in `shards` files (an index when more than one). */
function folder(name: string, hfConfig: Record<string, unknown>, cfg: ModelConfig = tiny, shards = 1): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig));
  const weights = initParameters(cfg, 1);
  const names = Object.keys(weights).sort();
  if (shards === 1) {
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(weights, { dtype: 'BF16' }));
    return dir;
  }
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-0000${s + 1}-of-0000${shards}.safetensors`;
    const part = Object.fromEntries(names.filter((_, i) => i % shards === s).map((n) => [n, weights[n]]));
    for (const n of Object.keys(part)) weightMap[n] = file;
    writeFileSync(join(dir, file), writeSafetensors(part, { dtype: 'F16' }));
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return dir;
}

const llama = { model_type: 'llama', vocab_size: 32, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 64, hidden_act: 'silu', rms_norm_eps: 1e-5 };

/** The import fails with `message`, and nothing at all is written under the model's name. */
async function refused(src: string, message: RegExp): Promise<void> {
  const name = `bad-${randomUUID().slice(0, 8)}`;
  await assert.rejects(importModel(store, src, { name }), message);
  for await (const object of store.list(store.key(`pipelines/${name}/`))) assert.fail(`${object.key} was written`);
}

describe('r1 import', () => {
  it('reads sharded F16 safetensors with their index, and both rope layouts of config.json', async () => {
    const sharded = folder('sharded', { ...llama, rope_theta: 500000 }, tiny, 3);
    const state = await loadTrainerState(store, await importModel(store, sharded, { name: 'sharded' }));
    assert.equal(modelConfigSchema.parse(state.config).ropeTheta, 500000);
    const v5 = folder('v5', { ...llama, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
    const config = modelConfigSchema.parse((await loadTrainerState(store, await importModel(store, v5, { name: 'v5' }))).config);
    assert.deepEqual([config.ropeTheta, config.ropeScaling], [500000, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 }]);
  });

  it('reads Qwen2 (q/k/v biases) and Qwen3 (q/k norm) folders', async () => {
    const qwen2 = modelConfigSchema.parse({ ...tiny, qkvBias: true });
    const state = await loadTrainerState(store, await importModel(store, folder('qwen2', { ...llama, model_type: 'qwen2', use_sliding_window: false, sliding_window: 32 }, qwen2), { name: 'qwen2' }));
    assert.ok('model.layers.1.self_attn.k_proj.bias' in state.weights);
    const qwen3 = modelConfigSchema.parse({ ...tiny, qkNorm: true, headDim: 4 });
    const q3 = await loadTrainerState(store, await importModel(store, folder('qwen3', { ...llama, model_type: 'qwen3', head_dim: 4 }, qwen3), { name: 'qwen3' }));
    assert.deepEqual(q3.weights['model.layers.0.self_attn.q_norm.weight'].dims, [4]);
  });

  it('carries every end token of config.json into the checkpoint when the folder has no generation_config.json', async () => {
    const state = await loadTrainerState(store, await importModel(store, folder('eos-list', { ...llama, bos_token_id: 1, eos_token_id: [2, 3] }), { name: 'eos-list' }));
    assert.deepEqual(JSON.parse(Buffer.from(state.assets!['generation_config.json']).toString('utf8')), { bos_token_id: 1, eos_token_id: [2, 3] });
    const plain = await loadTrainerState(store, await importModel(store, folder('no-ids', llama), { name: 'no-ids' }));
    assert.equal(plain.assets?.['generation_config.json'], undefined);
  });

  it('refuses an index naming a shard that is not there', async () => {
    const dir = folder('missing-shard', llama, tiny, 2);
    unlinkSync(join(dir, 'model-00002-of-00002.safetensors'));
    await refused(dir, /model\.safetensors\.index\.json: weight_map names model-00002-of-00002\.safetensors, which is not in .* \(missing shard\)/);
  });

  it('refuses weights missing a tensor the config needs, naming it', async () => {
    const dir = folder('missing-tensor', llama, tiny, 2);
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    const only = Object.fromEntries(Object.entries(index.weight_map).filter(([, f]) => f === 'model-00001-of-00002.safetensors'));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: only }));
    await refused(dir, /missing-tensor: missing tensor "model\.[^"]+"/);
  });

  it('refuses a truncated safetensors header and a file cut short, naming the file', async () => {
    const dir = folder('truncated-header', llama);
    truncateSync(join(dir, 'model.safetensors'), 40);
    await refused(dir, /truncated-header\/model\.safetensors: not a valid safetensors file: header length \d+ runs past the end of the 40-byte file/);
    const cut = folder('cut-short', llama);
    truncateSync(join(cut, 'model.safetensors'), readFileSync(join(cut, 'model.safetensors')).length - 10);
    await refused(cut, /cut-short\/model\.safetensors: not a valid safetensors file: tensor "[^"]+" data_offsets .* lie outside/);
  });

  it('refuses what the engine does not model, naming the config field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...llama, model_type: 'mixtral' }, /config\.json: model_type: "mixtral" is not supported/],
      [{ ...llama, hidden_act: 'gelu' }, /config\.json: hidden_act: "gelu"/],
      [{ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /config\.json: rope_scaling\.rope_type: "yarn" is not supported/],
      [{ ...llama, rope_parameters: { rope_type: 'longrope', rope_theta: 1e4 } }, /config\.json: rope_parameters\.rope_type: "longrope" is not supported/],
      [{ ...llama, model_type: 'mistral', sliding_window: 16 }, /config\.json: sliding_window: a sliding window of 16/],
      [{ ...llama, model_type: 'qwen2', use_sliding_window: true }, /config\.json: use_sliding_window/],
      [{ ...llama, num_local_experts: 8 }, /config\.json: num_local_experts: mixture-of-experts/],
      [{ ...llama, attention_bias: true }, /config\.json: attention_bias/],
      [{ ...llama, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /config\.json: rope_scaling\.low_freq_factor: missing for rope type llama3/],
    ];
    for (const [i, [config, message]] of cases.entries()) await refused(folder(`unsupported-${i}`, config), message);
  });

  it('refuses a GGUF with a quant type it does not read', async () => {
    const file = join(root, 'q2k.gguf');
    copyFileSync(join(projectRoot, 'tests', 'fixtures', 'gguf', 'unsupported.gguf'), file);
    await refused(file, /q2k\.gguf: tensor "q2_k" has ggml type Q2_K, which is not supported/);
  });
});

/** The compiled `r1` in its own process, with this file's S3 prefix. */
function r1(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, R1_S3_PREFIX: store.prefix };
    execFile(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), ...args], { encoding: 'utf8', timeout: 120_000, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('r1 import and r1 export on the command line', () => {
  it('import prints the manifest uri last; export writes the folder; bad input exits 1 naming the file, bad usage 2', async () => {
    const imported = await r1('import', folder('cli', llama), '--name', 'cli-model');
    assert.equal(imported.code, 0, imported.stderr);
    const uri = imported.stdout.trim().split('\n').at(-1)!;
    assert.equal(uri, store.uri(store.key('pipelines/cli-model/checkpoints/import/step-00000000/manifest.json')));
    const out = join(root, 'cli-export');
    const exported = await r1('export', uri, out, '--dtype', 'f16');
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype, 'float16');
    assert.ok(existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'generation_config.json')));

    const bad = await r1('import', folder('cli-bad', { ...llama, hidden_act: 'relu' }));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cli-bad\/config\.json: hidden_act: "relu"/);
    assert.equal((await r1('export', uri)).code, 2);
    assert.equal((await r1('export', uri, out, '--dtype', 'int8')).code, 2);
  });
});
