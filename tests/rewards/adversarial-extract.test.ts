import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { extractAnswer } from '../../rewards/extract';
import { accuracyReward } from '../../rewards/accuracy';
import { mathEquivalent, warmUpCas } from '../../rewards/math-equivalence';

/** Runs `fn`, asserts it took under `limitMs`, returns its result. Limits are generous: CI shares 2 cores. */
function prompt<T>(limitMs: number, fn: () => T): T {
  const start = performance.now();
  const result = fn();
  const took = performance.now() - start;
  assert.ok(took < limitMs, `took ${took.toFixed(0)} ms, limit ${limitMs} ms`);
  return result;
}

const MEGABYTE = 'lorem ipsum '.repeat(90_000);

test('a megabyte of text around the answer', () => {
  assert.deepEqual(prompt(200, () => extractAnswer(`</think>${MEGABYTE}\\boxed{5}${MEGABYTE}`)), { answer: '5' });
  assert.deepEqual(prompt(200, () => extractAnswer(MEGABYTE)), { answer: null, reason: 'no answer' });
  assert.deepEqual(prompt(200, () => accuracyReward(`<answer>${MEGABYTE}</answer>`, '5')), { value: 0, reason: 'answer too long' });
  assert.deepEqual(prompt(200, () => mathEquivalent(MEGABYTE, MEGABYTE)), { equal: false, reason: 'answer too long' });
});

test('10,000 nested braces', () => {
  const nested = '{'.repeat(10_000) + '5' + '}'.repeat(10_000);
  const closed = prompt(200, () => extractAnswer(`\\boxed{${nested}}`));
  assert.equal(closed.answer, nested);
  assert.deepEqual(prompt(200, () => extractAnswer(`\\boxed{${'{'.repeat(10_000)}5`)), { answer: null, reason: 'no answer' });
  assert.deepEqual(prompt(200, () => accuracyReward(`\\boxed{${nested}}`, '5')), { value: 0, reason: 'answer too long' });
});

test('nesting that fits under the length cap still ends promptly', () => {
  warmUpCas();
  const sets = '\\{'.repeat(200) + '1' + '\\}'.repeat(200);
  assert.deepEqual(prompt(500, () => mathEquivalent(sets, '1')), { equal: false, reason: 'nested too deeply' });
  const parens = '('.repeat(400) + '1' + ')'.repeat(400);
  assert.equal(prompt(500, () => mathEquivalent(parens, '1')).equal, true);
  const braces = '{'.repeat(450) + '1' + '}'.repeat(450);
  assert.equal(prompt(2_000, () => mathEquivalent(braces, '2', { timeoutMs: 500 })).equal, false);
});

test('many tag pairs and many near-miss commands stay linear', () => {
  const many = '<answer>1</answer>'.repeat(100_000) + '<answer>2</answer>';
  assert.deepEqual(prompt(300, () => extractAnswer(many)), { answer: '2' });
  const opens = '<answer>'.repeat(100_000) + '3</answer>';
  assert.deepEqual(prompt(300, () => extractAnswer(opens)), { answer: '3' });
  const nearMisses = '\\boxed{4}' + '\\boxedx'.repeat(100_000);
  assert.deepEqual(prompt(300, () => extractAnswer(nearMisses)), { answer: '4' });
  const thinks = '<think>'.repeat(50_000) + '</think>'.repeat(50_000) + '\\boxed{6}';
  assert.deepEqual(prompt(300, () => extractAnswer(thinks)), { answer: '6' });
});

test('tags out of order give no answer', () => {
  assert.deepEqual(extractAnswer('</answer>7<answer>', ['answer-tag']), { answer: null, reason: 'no answer' });
  assert.deepEqual(extractAnswer('</think>7<think>'), { answer: null, reason: 'no answer' });
  assert.deepEqual(accuracyReward('<answer></think>7</answer><think>', '7'), { value: 0, reason: 'no answer' });
});

test('an answer hidden inside the think block earns nothing', () => {
  assert.deepEqual(accuracyReward('<think>it is \\boxed{7} <answer>7</answer></think>', '7'), { value: 0, reason: 'no answer' });
  assert.deepEqual(accuracyReward('<think>\\boxed{7}</think><answer>8</answer>', '7'), { value: 0, reason: 'different integers' });
  assert.deepEqual(accuracyReward('<think>\\boxed{7}</think>the end', '7'), { value: 0, reason: 'no answer' });
  assert.deepEqual(accuracyReward('<think>\\boxed{7}', '7'), { value: 0, reason: 'no answer' });
});

test('unicode look-alike digits are not read as ASCII digits', () => {
  const lookAlikes = {
    fullwidth: '\uff17', // ７
    'arabic-indic': '\u0667', // ٧
    'extended arabic-indic': '\u06f7', // ۷
    devanagari: '\u096d', // ७
    'mathematical bold': '\ud835\udfd5', // 𝟕
    'mathematical double-struck': '\ud835\udfdf', // 𝟟
    superscript: '\u2077', // ⁷
  };
  for (const [name, seven] of Object.entries(lookAlikes)) {
    const verdict = prompt(100, () => accuracyReward(`</think><answer>${seven}</answer>`, '7'));
    assert.deepEqual(verdict, { value: 0, reason: 'non-ASCII numeral in answer' }, name);
    assert.equal(accuracyReward(`\\boxed{1${seven}}`, '17').value, 0, `${name} mixed with ASCII`);
  }
  assert.equal(accuracyReward('</think><answer>7</answer>', '7').value, 1);
});

test('pathological CAS input ends with a timeout, and the next comparison still works', () => {
  warmUpCas();
  for (const input of ['100000!', '99999!+1']) {
    const verdict = prompt(1_500, () => mathEquivalent(input, '5', { timeoutMs: 250 }));
    assert.deepEqual(verdict, { equal: false, reason: 'timeout' }, input);
  }
  assert.deepEqual(prompt(2_000, () => mathEquivalent('x^2+2x+1', '(x+1)^2')), { equal: true, reason: 'equal at sampled points' });
  assert.deepEqual(prompt(2_000, () => accuracyReward('\\boxed{100000!}', '5', { timeoutMs: 250 })), { value: 0, reason: 'timeout' });
});

test('power towers and huge exponents neither hang nor crash the process', () => {
  for (const input of ['9^{9^{9}}', '10^{10^{10^{10}}}', 'x^{9^{9^{9}}}', '2^{2^{2^{2^{2^{2}}}}}']) {
    const verdict = prompt(3_000, () => mathEquivalent(input, '1', { timeoutMs: 500 }));
    assert.equal(verdict.equal, false, input);
  }
});
