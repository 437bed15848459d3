import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { accuracyReward } from '../../rewards/accuracy';
import { mathEquivalent, warmUpCas } from '../../rewards/math-equivalence';
import { MATH_PAIRS, RESPONSE_PAIRS } from './math-pairs';

test('math equivalence table: every row gets its expected verdict', () => {
  warmUpCas();
  const failures: string[] = [];
  let rows = 0;
  for (const [category, pairs] of Object.entries(MATH_PAIRS)) {
    for (const [pred, gold, expected] of pairs) {
      rows++;
      const verdict = mathEquivalent(pred, gold);
      if (verdict.equal !== expected) {
        failures.push(`[${category}] ${JSON.stringify(pred)} vs ${JSON.stringify(gold)}: expected ${expected}, got ${verdict.equal} (${verdict.reason})`);
      }
    }
  }
  assert.ok(rows >= 300, `the table has only ${rows} rows`);
  assert.equal(failures.length, 0, `${failures.length} of ${rows} rows failed:\n${failures.join('\n')}`);
});

/** Categories with rows that are one-sided on purpose (a gold interval asks for an interval). */
const ASYMMETRIC = new Set(['percentages', 'x = 3', 'inequalities as intervals', 'relations and membership', 'labels', 'approximations', 'decimal comma', 'percent words']);

test('math equivalence table: the verdict is symmetric for equal pairs', () => {
  const failures: string[] = [];
  for (const [category, pairs] of Object.entries(MATH_PAIRS)) {
    for (const [pred, gold, expected] of pairs) {
      if (!expected || ASYMMETRIC.has(category)) continue;
      const verdict = mathEquivalent(gold, pred);
      if (!verdict.equal) failures.push(`[${category}] ${JSON.stringify(gold)} vs ${JSON.stringify(pred)}: ${verdict.reason}`);
    }
  }
  assert.equal(failures.length, 0, `${failures.length} swapped pairs failed:\n${failures.join('\n')}`);
});

test('response table: answers read from prose and boxes, golds read from solutions', () => {
  warmUpCas();
  const failures: string[] = [];
  for (const [category, pairs] of Object.entries(RESPONSE_PAIRS)) {
    for (const [response, gold, expected] of pairs) {
      const { value, reason } = accuracyReward(response, gold);
      if ((value === 1) !== expected) failures.push(`[${category}] ${JSON.stringify(response)} vs ${JSON.stringify(gold)}: expected ${expected}, got ${value} (${reason})`);
    }
  }
  assert.equal(failures.length, 0, `${failures.length} rows failed:\n${failures.join('\n')}`);
});
