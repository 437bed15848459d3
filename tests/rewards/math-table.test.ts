import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mathEquivalent, warmUpCas } from '../../rewards/math-equivalence';
import { MATH_PAIRS } from './math-pairs';

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

test('math equivalence table: the verdict is symmetric for equal pairs', () => {
  const failures: string[] = [];
  for (const [category, pairs] of Object.entries(MATH_PAIRS)) {
    for (const [pred, gold, expected] of pairs) {
      if (!expected || category === 'percentages' || category === 'x = 3') continue;
      const verdict = mathEquivalent(gold, pred);
      if (!verdict.equal) failures.push(`[${category}] ${JSON.stringify(gold)} vs ${JSON.stringify(pred)}: ${verdict.reason}`);
    }
  }
  assert.equal(failures.length, 0, `${failures.length} swapped pairs failed:\n${failures.join('\n')}`);
});
