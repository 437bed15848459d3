import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REWARD_PRESETS, RewardSpecSchema, type RewardSpecInput } from '../../schemas/rewards';
import { REWARD_FUNCTIONS, scoreBatch, scoreSample } from '../../rewards/compose';

const spec = (input: RewardSpecInput) => RewardSpecSchema.parse(input);
const good = '<think>Two plus two is four.</think><answer>4</answer>';

test('weights are applied and every reward is in the breakdown', async () => {
  const s = spec([
    { name: 'format', weight: 0.5 },
    { name: 'language', weight: 0.2, language: 'zh' },
    { name: 'overlong', weight: 2, maxTokens: 100, buffer: 20 },
  ]);
  const score = await scoreSample({ response: good, completionTokens: 90 }, s);
  // format 1 * 0.5 + language 0 * 0.2 + overlong -0.5 * 2
  assert.equal(score.reward, -0.5);
  assert.deepEqual(Object.keys(score.breakdown), ['format', 'language', 'overlong']);
  assert.deepEqual(score.breakdown.format, { value: 1, weight: 0.5, reason: 'well formed' });
  assert.equal(score.breakdown.overlong.value, -0.5);
  assert.equal(score.breakdown.overlong.weight, 2);
  assert.equal(score.mask, false);
});

test('accuracy uses the gold answer; a sample without one scores 0 with the reason', async () => {
  const s = spec([{ name: 'accuracy', weight: 2 }]);
  assert.equal((await scoreSample({ response: good, gold: '4' }, s)).reward, 2);
  const missing = await scoreSample({ response: good }, s);
  assert.equal(missing.reward, 0);
  assert.match(missing.breakdown.accuracy.reason, /no gold/);
});

test('a throwing reward scores 0 with its error; the others still count', async () => {
  const rewards = { ...REWARD_FUNCTIONS, language: () => { throw new Error('boom'); } };
  const s = spec([{ name: 'format', weight: 1 }, { name: 'language', weight: 1, language: 'en' }]);
  const score = await scoreSample({ response: good }, s, rewards);
  assert.equal(score.reward, 1);
  assert.deepEqual(score.breakdown.language, { value: 0, weight: 1, reason: 'error: boom' });
});

test('a reward past its deadline scores 0 and does not hold up the sample', async () => {
  const rewards = { ...REWARD_FUNCTIONS, format: () => new Promise<never>(() => {}) };
  const s = spec([{ name: 'format', weight: 1, timeoutMs: 50 }, { name: 'language', weight: 1, language: 'en' }]);
  const started = Date.now();
  const score = await scoreSample({ response: good }, s, rewards);
  assert.ok(Date.now() - started < 1000);
  assert.equal(score.reward, 1);
  assert.deepEqual(score.breakdown.format, { value: 0, weight: 1, reason: 'error: timed out after 50 ms' });
});

test('a non-finite value is not added to the reward', async () => {
  const rewards = { ...REWARD_FUNCTIONS, format: () => ({ value: NaN, reason: 'oops' }) };
  const score = await scoreSample({ response: good }, spec([{ name: 'format' }]), rewards);
  assert.equal(score.reward, 0);
  assert.match(score.breakdown.format.reason, /non-finite/);
});

test('the overlong reward can mask a truncated sample', async () => {
  const s = spec([{ name: 'overlong', maxTokens: 100, buffer: 20, maskTruncated: true }]);
  assert.equal((await scoreSample({ response: good, completionTokens: 100, truncated: true }, s)).mask, true);
  assert.equal((await scoreSample({ response: good, completionTokens: 50 }, s)).mask, false);
});

test('batches keep order, isolate failures and respect the concurrency', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const rewards = {
    ...REWARD_FUNCTIONS,
    format: async (sample: { response: string }) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      if (sample.response === 'bad') throw new Error('bad sample');
      return { value: Number(sample.response), reason: 'echo' };
    },
  };
  const samples = ['1', '2', 'bad', '3', '4', '5'].map((response) => ({ response }));
  const scores = await scoreBatch(samples, spec([{ name: 'format' }]), { concurrency: 2 }, rewards);
  assert.deepEqual(scores.map((s) => s.reward), [1, 2, 0, 3, 4, 5]);
  assert.equal(scores[2].breakdown.format.reason, 'error: bad sample');
  assert.equal(maxInFlight, 2);
});

test('presets are valid specs; duplicate names and bad options are rejected', () => {
  for (const [name, preset] of Object.entries(REWARD_PRESETS)) assert.ok(RewardSpecSchema.safeParse(preset).success, name);
  const [code] = spec(REWARD_PRESETS.code);
  assert.ok(code.name === 'code' && code.limits.wallMs === 5000, 'code limits get their defaults');
  assert.equal(RewardSpecSchema.safeParse([{ name: 'format' }, { name: 'format' }]).success, false);
  assert.equal(RewardSpecSchema.safeParse([{ name: 'overlong', maxTokens: 10, buffer: 20 }]).success, false);
  assert.equal(RewardSpecSchema.safeParse([{ name: 'language', language: 'xx' }]).success, false);
  assert.equal(RewardSpecSchema.safeParse([{ name: 'speed' }]).success, false);
});
