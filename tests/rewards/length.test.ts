import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overlongReward } from '../../rewards/length';

const opts = { maxTokens: 1000, buffer: 200 };

test('no penalty up to max - buffer', () => {
  assert.equal(overlongReward({ completionTokens: 0 }, opts).value, 0);
  assert.equal(overlongReward({ completionTokens: 800 }, opts).value, 0);
});

test('penalty grows linearly inside the buffer and is -1 beyond max', () => {
  assert.equal(overlongReward({ completionTokens: 900 }, opts).value, -0.5);
  assert.equal(overlongReward({ completionTokens: 1000 }, opts).value, -1);
  assert.equal(overlongReward({ completionTokens: 850 }, opts).value, -0.25);
  assert.equal(overlongReward({ completionTokens: 5000 }, opts).value, -1);
});

test('truncated completions are masked only when asked', () => {
  assert.equal(overlongReward({ completionTokens: 1000, truncated: true }, opts).mask, false);
  assert.equal(overlongReward({ completionTokens: 1000, truncated: true }, { ...opts, maskTruncated: true }).mask, true);
  assert.equal(overlongReward({ completionTokens: 1000, truncated: false }, { ...opts, maskTruncated: true }).mask, false);
});

test('a sample without a token count is an error, not a silent 0', () => {
  assert.throws(() => overlongReward({}, opts), /completionTokens/);
});
