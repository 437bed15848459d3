/**
 * The whole decoder's gradient (embedding to masked cross-entropy) against central finite
 * differences in float64, on a random subset of coordinates of every parameter.
 * Tolerance: 1e-6 relative to max(1, |gradient|).
 */
import { test } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import type { ModelConfig } from '../../schemas/model';
import type { Memory } from '../../schemas/runtime';
import { sftLoss, tokenLogprobs } from '../../engine/losses';
import { decoder, lmHeadWeight, parameterShapes } from '../../engine/model';
import { GradInput, assertGradient } from './gradcheck';

const base = { vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numLayers: 2, ropeTheta: 10000, rmsNormEps: 1e-6, maxSeqLen: 16, qkNorm: false };

async function checkModel(cfg: ModelConfig, recompute: Memory['recompute'] = 'none'): Promise<void> {
  const [B, T] = [2, 5];
  const ints = (data: number[]) => new Tensor('int32', Int32Array.from(data), [B, T]);
  const floats = (data: number[]) => new Tensor('float64', Float64Array.from(data), [B, T]);
  // Row 1 is left-padded by two tokens, so masking and shifted positions are part of the check.
  const feeds = {
    ids: ints([1, 5, 2, 9, 3, 0, 0, 7, 7, 4]),
    targets: ints([5, 2, 9, 3, 0, 0, 0, 7, 4, 10]),
    positions: ints([0, 1, 2, 3, 4, 0, 0, 0, 1, 2]),
    attentionMask: floats([1, 1, 1, 1, 1, 0, 0, 1, 1, 1]),
    lossMask: floats([0, 1, 1, 1, 0, 0, 0, 1, 1, 1]),
  };
  const inputs: Record<string, GradInput> = {};
  for (const [name, shape] of Object.entries(parameterShapes(cfg))) inputs[name] = { shape };
  await assertGradient({
    inputs,
    feeds,
    maxCoords: 5,
    build: (g, p) => {
      const ids = g.input('ids', 'int32', ['B', 'T']);
      const targets = g.input('targets', 'int32', ['B', 'T']);
      const positions = g.input('positions', 'int32', ['B', 'T']);
      const attentionMask = g.input('attentionMask', 'float64', ['B', 'T']);
      const lossMask = g.input('lossMask', 'float64', ['B', 'T']);
      const { hidden } = decoder(g, cfg, p, { ids, positions, attentionMask }, { recompute });
      return sftLoss(g, tokenLogprobs(g, hidden, lmHeadWeight(cfg, p), targets).logprobs, lossMask);
    },
  });
}

test('decoder gradient (GQA, q/k/v bias, separate LM head) matches finite differences', async () => {
  await checkModel({ ...base, numHeads: 4, numKvHeads: 2, tieEmbeddings: false, qkvBias: true });
});

test('decoder gradient (multi-head, tied embeddings, explicit headDim) matches finite differences', async () => {
  await checkModel({ ...base, numHeads: 2, numKvHeads: 2, headDim: 6, tieEmbeddings: true, qkvBias: false });
});

test('decoder gradient (Qwen3 q/k norm, Llama 3 rope scaling) matches finite differences', async () => {
  const ropeScaling = { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 };
  await checkModel({ ...base, numHeads: 4, numKvHeads: 2, tieEmbeddings: true, qkvBias: false, qkNorm: true, ropeScaling });
});

test('decoder gradient with every layer recomputed in the backward pass (GQA, q/k norm) matches finite differences', async () => {
  await checkModel({ ...base, numHeads: 4, numKvHeads: 2, tieEmbeddings: true, qkvBias: true, qkNorm: true }, 'layers');
});

test('decoder gradient with attention probabilities computed again in the backward pass (GQA) matches finite differences', async () => {
  await checkModel({ ...base, numHeads: 4, numKvHeads: 2, tieEmbeddings: false, qkvBias: true }, 'attention');
});
