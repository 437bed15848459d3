import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { encodeJsonl } from '../../activities/jsonl';
import { RecentShards } from '../../activities/recent-shards';
import { Timings } from '../../activities/timings';
import { ArtifactStore } from '../../storage/artifact-store';
import { ensureStack } from '../helpers/stack';

before(async () => {
  await ensureStack();
});

test('recent shards are read from memory by content; once evicted by size, from S3', async () => {
  const store = ArtifactStore.fromEnv();
  const folder = store.key(`tests/recent-${randomUUID()}/`);
  const put = async (name: string, rows: unknown[]) => (await store.putBytes(`${folder}${name}.jsonl`, encodeJsonl(rows))).ref;
  const first = await put('first', [{ row: 1 }]);
  const second = await put('second', [{ row: 2 }]);
  const recent = new RecentShards(first.bytes + second.bytes);
  const t = new Timings();

  // The rows kept in memory (here other objects than the file holds) are what a read returns.
  const kept = [{ row: 1, from: 'memory' }];
  recent.remember(first, kept);
  recent.remember(second, [{ row: 2, from: 'memory' }]);
  assert.equal(await recent.read(store, first, t), kept);
  assert.equal(t.ms.s3, 0);

  // A third file goes over the budget: the least recently used one (second: first was just read)
  // is dropped and read back from S3.
  recent.remember(await put('third', [{ row: 3 }]), [{ row: 3, from: 'memory' }]);
  assert.deepEqual(await recent.read(store, second, t), [{ row: 2 }]);
  assert.ok(t.ms.s3 > 0);
  assert.equal(await recent.read(store, first, t), kept);

  // The same uri with other content (a rewritten file) is not what was remembered.
  const rewritten = await put('second', [{ row: 22 }]);
  assert.equal(rewritten.uri, second.uri);
  assert.deepEqual(await recent.read(store, rewritten, t), [{ row: 22 }]);
});
