import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RewardSpecSchema, type RewardEntry } from '../../schemas/rewards';
import { scoreSample } from '../../rewards/compose';
import { hostileSamples } from './hostile-inputs';

const ENTRIES = RewardSpecSchema.parse([
  { name: 'accuracy' },
  { name: 'format' },
  { name: 'language', language: 'en' },
  { name: 'overlong', maxTokens: 100, buffer: 10 },
  { name: 'code', language: 'python' },
]);

/** Scored or refused, never left to its deadline: a timeout means some step of the reward ran away. */
async function assertFinishes(entry: RewardEntry): Promise<void> {
  for (const [label, sample] of hostileSamples()) {
    const { breakdown } = await scoreSample(sample, [entry]);
    const { value, reason } = breakdown[entry.name];
    assert.ok(Number.isFinite(value), `${entry.name}, ${label}: ${reason}`);
    assert.doesNotMatch(reason, /timed out/, `${entry.name}, ${label}`);
  }
}

for (const entry of ENTRIES) {
  test(`1 MB hostile responses: ${entry.name} finishes within its deadline`, () => assertFinishes(entry));
}
