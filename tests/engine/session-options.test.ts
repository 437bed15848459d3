/**
 * The graph optimisers the engine turns off (engine/device.ts IDLE_OPTIMIZERS) are idle on its
 * graphs: with them off, onnxruntime's optimised form of every kind of graph the engine builds is
 * the same, byte for byte, as with all of them on, so they cost session time and buy nothing.
 * A new graph piece that one of them would rewrite fails here; then drop that one from the list.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { cpuSessionOptions } from '../../engine/device';
import { applyGraph, applyGroups, decodeGraph, grpoStepGraph, logprobsGraph, sftStepGraph } from '../../engine/graphs';
import { mergeGraph } from '../../engine/lora';
import type { Graph } from '../../engine/onnx/builder';
import type { Lora } from '../../schemas/lora';
import { modelConfigSchema, type ModelConfig } from '../../schemas/model';

const base = { vocabSize: 61, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64 };
const configs: Record<string, ModelConfig> = {
  'llama, grouped-query attention': modelConfigSchema.parse(base),
  'qwen2, tied embeddings, qkv bias': modelConfigSchema.parse({ ...base, architecture: 'qwen2', numKvHeads: 4, tieEmbeddings: true, qkvBias: true }),
  'qwen3, q/k norm': modelConfigSchema.parse({ ...base, architecture: 'qwen3', qkNorm: true }),
};
const lora: Lora = { rank: 2, alpha: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };

function graphs(cfg: ModelConfig): Record<string, () => Graph> {
  const list: Record<string, () => Graph> = { logprobs: () => logprobsGraph(cfg), decode: () => decodeGraph(cfg), 'lora merge': () => mergeGraph(cfg, lora) };
  for (const part of ['whole', 'gradient'] as const) {
    for (const [memory, opts] of [['', { part, recompute: 'none' }], [', recomputed layers', { part, recompute: 'layers' }], [', recomputed attention', { part, recompute: 'attention' }], [', LoRA', { part, recompute: 'none', lora }]] as const) {
      list[`sft ${part}${memory}`] = () => sftStepGraph(cfg, opts);
      for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) list[`${aggregation} ${part}${memory}`] = () => grpoStepGraph(cfg, aggregation, opts);
    }
  }
  for (const adapters of [undefined, lora]) {
    for (const { group } of applyGroups(cfg, adapters)) list[`apply ${group}${adapters ? ', LoRA' : ''}`] = () => applyGraph(cfg, group, adapters);
  }
  return list;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-session-options-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** onnxruntime's optimised form of `model` under `options`. */
async function optimised(model: Uint8Array, options: InferenceSession.SessionOptions): Promise<Buffer> {
  const file = path.join(dir, 'optimised.onnx');
  // logSeverityLevel 3: saving warns that the model may hold kernels for this CPU only.
  const session = await InferenceSession.create(model, { ...options, optimizedModelFilePath: file, logSeverityLevel: 3 });
  await session.release();
  return fs.readFileSync(file);
}

describe('idle graph optimisers', () => {
  const engine = cpuSessionOptions(1);
  const { optimization, ...everyOptimiser } = engine.extra as Record<string, unknown>;
  assert.ok(optimization, 'the engine turns some optimisers off');
  for (const [name, cfg] of Object.entries(configs)) {
    it(`leave every graph of a ${name} model as all optimisers make it`, async () => {
      for (const [graph, build] of Object.entries(graphs(cfg))) {
        const model = build().toModel();
        const ours = await optimised(model, engine);
        const all = await optimised(model, { ...engine, extra: everyOptimiser });
        assert.ok(ours.equals(all), `${graph}: the optimised graph differs with the idle optimisers off`);
      }
    });
  }
});
