import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { DeadlinePool } from '../../rewards/deadline-pool';
import type { BlockingTask } from './blocking-worker';

type Pool = DeadlinePool<BlockingTask, number | null>;

async function withPool(size: number, use: (pool: Pool) => Promise<void>, workerFile = 'blocking-worker.js'): Promise<void> {
  const pool: Pool = new DeadlinePool(path.join(__dirname, workerFile), size);
  try {
    await use(pool);
  } finally {
    await pool.close();
  }
}

test('synchronous work past its deadline is stopped, and the pool goes on with a fresh worker', () =>
  withPool(1, async (pool) => {
    await assert.rejects(pool.run({ kind: 'spin' }, 200), /timed out after 200 ms/);
    // The only worker was spinning for good: an answer now proves it was replaced.
    assert.equal(await pool.run({ kind: 'busy', ms: 1, value: 7 }, 5_000), 7);
  }));

test('a task that throws fails with its own message; the worker keeps serving', () =>
  withPool(1, async (pool) => {
    await assert.rejects(pool.run({ kind: 'throw', message: 'bad sample' }, 5_000), /^Error: bad sample$/);
    assert.equal(await pool.run({ kind: 'busy', ms: 1, value: 3 }, 5_000), 3);
  }));

test('time spent queued is not charged to a task', () =>
  // One worker, four tasks of 150 ms each, each with a 1 s deadline: the last waits about 450 ms
  // in the queue and must still get its full second.
  withPool(1, async (pool) => {
    const results = await Promise.all([1, 2, 3, 4].map((value) => pool.run({ kind: 'busy', ms: 150, value }, 1_000)));
    assert.deepEqual(results, [1, 2, 3, 4]);
  }));

test('tasks spread over the workers, in order of arrival', () =>
  withPool(2, async (pool) => {
    const stuck = pool.run({ kind: 'spin' }, 300);
    const others = Promise.all([5, 6, 7].map((value) => pool.run({ kind: 'busy', ms: 10, value }, 5_000)));
    assert.deepEqual(await others, [5, 6, 7], 'the second worker serves while the first spins');
    await assert.rejects(stuck, /timed out/);
  }));

test('a worker file that cannot load fails the tasks instead of restarting for ever', () =>
  withPool(
    2,
    async (pool) => {
      const runs = [1, 2, 3].map(() => pool.run({ kind: 'busy', ms: 1, value: 1 }, 5_000));
      for (const run of runs) await assert.rejects(run, /cannot load the rewards/);
    },
    'broken-worker.js',
  ));
