import assert from 'node:assert/strict';
import { test } from 'node:test';
import { majorityVote } from '../../rewards/majority';

test('equivalent answers are one vote: 1/2, 0.5 and \\frac{1}{2}', () => {
  // By text, 0.25 would tie with each spelling of one half; by value, one half has three votes.
  assert.equal(majorityVote(['0.25', '1/2', '0.25', '0.5', '\\frac{1}{2}']), 1);
});

test('the answer with the most votes wins, wherever its samples are', () => {
  assert.equal(majorityVote(['4', '3', '4', '3.0', '+3']), 1);
  assert.equal(majorityVote(['x+1', '(x+1)^2', 'x^2+2x+1', '1+x', '2x+1+x^2']), 1);
  assert.equal(majorityVote(['\\{1, 2\\}', '2, 1', '\\{1, 3\\}', '\\{3, 1\\}', '1, 3']), 2);
});

test('a tie goes to the answer that came first', () => {
  assert.equal(majorityVote(['5', '6']), 0);
  assert.equal(majorityVote(['6', '5', '5', '6']), 0);
});

test('samples without an answer do not vote', () => {
  assert.equal(majorityVote([null, '7', null, null]), 1);
  assert.equal(majorityVote([null, null]), -1);
  assert.equal(majorityVote([]), -1);
});

test('near misses stay apart: a rounded value is not the exact one', () => {
  assert.equal(majorityVote(['0.33', '\\frac13', '0.33', '1/3', '0.3333333333333333']), 1);
});
