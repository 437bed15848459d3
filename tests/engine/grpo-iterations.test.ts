/**
 * GRPO with several updates per batch of rollouts (the spec's `iterations`, μ in DeepSeekMath):
 * the behaviour log-probs stay those of the sampling policy, so after the first update the ratio
 * moves off 1 and the clip starts to act.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages } from '../../engine/grpo';
import * as trainer from '../../engine/trainer';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 4, numKvHeads: 1, maxSeqLen: 64 });

test('repeated updates on one batch of rollouts move the ratio off 1, and the clip acts', async () => {
  await trainer.init({ config, seed: 5, device: { kind: 'cpu', threads: 1 } });
  const G = 4;
  const prompts = [Int32Array.from([257, 65, 66]), Int32Array.from([257, 67])].flatMap((p) => Array(G).fill(p) as Int32Array[]);
  const rollouts = await trainer.generate(prompts, { maxNewTokens: 8, temperature: 1, seed: 7 });
  const sequences = rollouts.map((r, i) => Int32Array.from([...prompts[i], ...r.tokens]));
  const completionMask = rollouts.map((r, i) => Uint8Array.from([...prompts[i]].map(() => 0).concat([...r.tokens].map(() => 1))));
  const oldLogprobs = await trainer.logprobs(sequences);
  const advantages = computeAdvantages([1, 0, 0, 1, 0, 1, 1, 0], G, 'group');
  const loss = { aggregation: 'dapo' as const, scalars: { epsLow: 0.2, epsHigh: 0.28, beta: 0, maxLen: 8 } };
  const at = { optimizer: OptimizerSchema.parse({ lr: 0.03, beta2: 0.99, minLrRatio: 1 }), step: 1, totalSteps: 1 };

  const updates = [];
  for (let i = 0; i < 4; i++) updates.push(await trainer.grpoStep({ sequences, completionMask, oldLogprobs, advantages }, loss, at));
  assert.equal(updates[0].clipLow + updates[0].clipHigh, 0, 'the first update samples its own policy: ratio 1');
  const clipped = updates.slice(1).map((m) => m.clipLow + m.clipHigh);
  assert.ok(clipped.some((c) => c > 0), `no token clipped in later updates: ${clipped}`);
  // The clipped surrogate stops pushing clipped tokens: the loss keeps falling but stays bounded.
  assert.ok(updates[3].loss < updates[0].loss, `loss ${updates.map((m) => m.loss)}`);
});
