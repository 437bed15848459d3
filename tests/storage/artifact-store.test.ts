import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { PutObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ensureStack } from '../helpers/stack';
import { ArtifactStore, sha256OfFile } from '../../storage/artifact-store';
import { ArtifactNotFoundError, ChecksumMismatchError } from '../../storage/errors';
import { s3Env } from '../../schemas/environment';

let store: ArtifactStore;
let dir: string;
const run = `test-${randomUUID()}/`;

before(async () => {
  await ensureStack();
  const env = s3Env();
  store = ArtifactStore.fromEnv({ ...env, prefix: run });
  dir = await mkdtemp(join(tmpdir(), 'r1-store-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file of `mb` MiB of random bytes, written in 8 MiB pieces. */
async function randomFile(path: string, mb: number): Promise<void> {
  const handle = await open(path, 'w');
  for (let i = 0; i < mb / 8; i++) await handle.write(randomBytes(8 * 1024 * 1024));
  await handle.close();
}

test('a 200 MB file round-trips through multipart upload with its hash checked', async () => {
  const source = join(dir, 'weights.bin');
  await randomFile(source, 200);
  const expected = await sha256OfFile(source);

  const started = performance.now();
  const ref = await store.putFile(store.key('big/weights.bin'), source);
  const uploadMs = performance.now() - started;
  assert.equal(ref.sha256, expected.sha256);
  assert.equal(ref.bytes, 200 * 1024 * 1024);

  // 200 MiB in 64 MiB parts is a 4-part multipart upload; S3 marks such ETags with "-<parts>".
  const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: store.key('big/weights.bin') }));
  assert.match(head.ETag ?? '', /-4"?$/);

  const copy = join(dir, 'weights.copy');
  const got = await store.getToFile(ref, copy);
  assert.equal(got.sha256, expected.sha256);
  assert.equal((await stat(copy)).size, ref.bytes);
  console.log(`# multipart upload of 200 MiB: ${(200 / (uploadMs / 1000)).toFixed(0)} MiB/s`);
});

test('a stream of unknown length is stored and its ref carries the hash', async () => {
  const source = join(dir, 'stream.bin');
  await randomFile(source, 8);
  const ref = await store.putStream(store.key('stream.bin'), createReadStream(source));
  assert.equal(ref.sha256, (await sha256OfFile(source)).sha256);
  assert.equal((await store.getBytes(ref)).length, 8 * 1024 * 1024);
});

test('an object altered behind the store\'s back is detected on read, by name', async () => {
  const key = store.key('altered.json');
  const { ref } = await store.putBytes(key, Buffer.from('{"ok":true}'));
  // Overwrite with other bytes but the original metadata, as a buggy tool or bit rot would.
  await store.client.send(
    new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: Buffer.from('{"ok":false}'), Metadata: { sha256: ref.sha256 } }),
  );
  for (const address of [ref, { uri: ref.uri }]) {
    await assert.rejects(store.getBytes(address), (err: unknown) => {
      assert.ok(err instanceof ChecksumMismatchError);
      assert.equal(err.name, 'ChecksumMismatchError');
      assert.ok(err.message.includes(ref.uri), err.message);
      return true;
    });
  }
  const target = join(dir, 'altered.json');
  await assert.rejects(store.getToFile(ref, target), ChecksumMismatchError);
  await assert.rejects(stat(target), 'a file that failed its check is not left behind');
});

test('a missing object is a clear not-found error', async () => {
  await assert.rejects(store.getBytes({ uri: store.uri(store.key('nothing-here')) }), ArtifactNotFoundError);
});

test('conditional put leaves an existing object alone', async () => {
  const key = store.key('once.txt');
  assert.equal((await store.putBytes(key, Buffer.from('first'), { ifAbsent: true })).created, true);
  assert.equal((await store.putBytes(key, Buffer.from('second'), { ifAbsent: true })).created, false);
  assert.equal((await store.getBytes({ uri: store.uri(key) })).toString(), 'first');
});

test('listing pages through 1,500 keys', async () => {
  const prefix = store.key('many/');
  const names = Array.from({ length: 1500 }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((key) => store.putBytes(key, Buffer.from(key))));
  }
  const listed: string[] = [];
  for await (const item of store.list(prefix)) listed.push(item.key);
  assert.deepEqual(listed.sort(), names);
});

test('a small file verifies from the hash in its metadata when the ref has none', async () => {
  const path = join(dir, 'small.txt');
  await writeFile(path, 'hello');
  const ref = await store.putFile(store.key('small.txt'), path);
  assert.equal((await store.getBytes({ uri: ref.uri })).toString(), 'hello');
});
