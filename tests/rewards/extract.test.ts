import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { extractAnswer, visiblePart } from '../../rewards/extract';
import { lastBoxGroup } from '../../rewards/final-answer';
import { accuracyReward } from '../../rewards/accuracy';

test('answer tag: content, trimmed; the last complete pair wins', () => {
  assert.deepEqual(extractAnswer('<think>t</think><answer> 42 </answer>'), { answer: '42' });
  assert.deepEqual(extractAnswer('<think>t</think><answer>1</answer> then <answer>2</answer>'), { answer: '2' });
  assert.deepEqual(extractAnswer('<answer>3</answer><answer>4'), { answer: '3' });
});

test('answer tag: a \\boxed{} inside the tag is unwrapped', () => {
  assert.deepEqual(extractAnswer('</think><answer>The answer is \\boxed{\\frac{1}{2}}.</answer>'), { answer: '\\frac{1}{2}' });
});

test('boxed: nested braces, \\fbox, escaped braces, the last box wins', () => {
  assert.deepEqual(extractAnswer('so \\boxed{\\frac{1}{\\sqrt{2}}}'), { answer: '\\frac{1}{\\sqrt{2}}' });
  assert.deepEqual(extractAnswer('\\boxed{1} or rather \\fbox{2}'), { answer: '2' });
  assert.deepEqual(extractAnswer('\\fbox{1} or rather \\boxed{2}'), { answer: '2' });
  assert.deepEqual(extractAnswer('\\boxed{\\{1, 2\\}}'), { answer: '\\{1, 2\\}' });
  assert.deepEqual(extractAnswer('\\boxed 5 is it'), { answer: '5' });
  assert.deepEqual(extractAnswer('\\boxed{\\boxed{7}}'), { answer: '7' });
  assert.equal(lastBoxGroup('\\boxedx{1}'), null);
});

test('boxed: an unclosed last box gives no answer, even after a closed one', () => {
  assert.deepEqual(extractAnswer('\\boxed{1} and finally \\boxed{2'), { answer: null, reason: 'no answer' });
});

test('sources are tried in the order given', () => {
  const response = '</think><answer>1</answer> \\boxed{2}';
  assert.deepEqual(extractAnswer(response), { answer: '1' });
  assert.deepEqual(extractAnswer(response, ['boxed', 'answer-tag']), { answer: '2' });
  assert.deepEqual(extractAnswer('\\boxed{2}', ['answer-tag']), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('<answer>1</answer>', ['boxed']), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('<answer>  </answer> \\boxed{3}'), { answer: '3' });
});

test('only the text after the last </think> counts', () => {
  assert.equal(visiblePart('<think>a</think>b</think>c'), 'c');
  assert.equal(visiblePart('intro <think>never closed'), 'intro ');
  assert.equal(visiblePart('plain'), 'plain');
  assert.deepEqual(extractAnswer('<think>\\boxed{5} <answer>5</answer></think>'), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('<think>\\boxed{5}</think><answer>6</answer>'), { answer: '6' });
  assert.deepEqual(extractAnswer('reasoning without an opening tag</think>\\boxed{8}'), { answer: '8' });
  assert.deepEqual(extractAnswer('<think>truncated \\boxed{5}'), { answer: null, reason: 'no answer' });
});

test('malformed answer tags yield nothing', () => {
  assert.deepEqual(extractAnswer('</answer>5<answer>', ['answer-tag']), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('<answer>5</answer></answer>', ['answer-tag']), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('<ANSWER>5</ANSWER>', ['answer-tag']), { answer: null, reason: 'no answer' });
});

test('accuracyReward: 1 for an equivalent answer, 0 with a reason otherwise, never throws', () => {
  assert.deepEqual(accuracyReward('<think>x</think><answer>\\frac{1}{2}</answer>', '0.5'), { value: 1, reason: 'numerically equal' });
  assert.deepEqual(accuracyReward('<think>x</think><answer>3</answer>', '4'), { value: 0, reason: 'different integers' });
  assert.deepEqual(accuracyReward('<think><answer>4</answer></think>', '4'), { value: 0, reason: 'no answer' });
  assert.deepEqual(accuracyReward('\\boxed{4}', '4', { sources: ['answer-tag'] }), { value: 0, reason: 'no answer' });
  assert.equal(accuracyReward(null as unknown as string, '4').value, 0);
  assert.equal(accuracyReward('\\boxed{4}', undefined as unknown as string).value, 0);
});
