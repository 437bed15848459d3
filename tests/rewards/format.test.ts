import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReward } from '../../rewards/format';

const score = (response: string) => formatReward(response).value;

test('think then answer, whitespace around, earns 1', () => {
  assert.equal(score('<think>\n2+2 is 4\n</think>\n<answer>4</answer>\n'), 1);
  assert.equal(score('  <think></think><answer> 4 </answer>'), 1);
});

test('repeated tag pairs earn nothing', () => {
  assert.equal(score('<think>a</think><answer>4</answer><think>b</think><answer>4</answer>'), 0);
  assert.equal(score('<think>a</think><think>b</think><answer>4</answer>'), 0);
  assert.match(formatReward('<think>a</think><answer>4</answer><answer>4</answer>').reason, /<answer> appears 2 times/);
});

test('nested tags earn nothing', () => {
  assert.equal(score('<think>a<think>b</think></think><answer>4</answer>'), 0);
  assert.equal(score('<think>a</think><answer><answer>4</answer></answer>'), 0);
});

test('tags out of order earn nothing', () => {
  assert.equal(score('<answer>4</answer><think>a</think>'), 0);
  assert.equal(score('</think>a<think><answer>4</answer>'), 0);
  assert.equal(score('<think>a<answer>4</think></answer>'), 0);
});

test('text outside the tags earns nothing', () => {
  assert.equal(score('Sure! <think>a</think><answer>4</answer>'), 0);
  assert.equal(score('<think>a</think> so <answer>4</answer>'), 0);
  assert.equal(score('<think>a</think><answer>4</answer> done'), 0);
});

test('an answer hidden in the thoughts earns nothing', () => {
  assert.equal(score('<think>a <answer>4</answer></think>'), 0);
  assert.equal(score('<think>a <answer>4</answer></think><answer>4</answer>'), 0);
});

test('tag look-alikes count as tags, missing or empty parts earn nothing', () => {
  assert.equal(score('<think>a</think><answer>4</answer><Answer >5</ANSWER>'), 0);
  assert.equal(score('<think>a</think><answer>4</answer >'), 0);
  assert.equal(score('<answer>4</answer>'), 0);
  assert.equal(score('<think>a</think><answer>  </answer>'), 0);
});

test('adversarial input is scored in linear time', () => {
  const started = performance.now();
  assert.equal(score('<think>' + '<think '.repeat(50_000)), 0);
  assert.ok(performance.now() - started < 500, 'quadratic tag scan');
});
