/**
 * The optimised-model cache (engine/session-cache.ts): an engine whose sessions come from the
 * cache trains exactly as one that optimised its graphs itself, and an entry that is cut short or
 * altered is found out, deleted and rebuilt, never loaded.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { cpuSessionOptions, onnxruntimeVersion } from '../../engine/device';
import { Engine } from '../../engine/engine';
import { optimisedSession } from '../../engine/session-cache';
import type { SftBatch } from '../../engine/trainer';
import { modelConfigSchema } from '../../schemas/model';
import { OptimizerSchema } from '../../schemas/optimizer';
import { chainedMatMulModel } from './fixtures/tiny-onnx';

const config = modelConfigSchema.parse({ vocabSize: 259, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 64 });
const batch: SftBatch = {
  sequences: [Int32Array.from([1, 72, 105, 33, 2]), Int32Array.from([1, 50, 43, 50, 61, 52, 2])],
  lossMask: [Uint8Array.from([0, 0, 1, 1, 1]), Uint8Array.from([0, 0, 0, 0, 1, 1, 1])],
};
const hp = { optimizer: OptimizerSchema.parse({ lr: 1e-2, weightDecay: 0.01, minLrRatio: 1 }), step: 1, totalSteps: 1 };

const dirs: string[] = [];
function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r1-session-cache-test-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('optimised-model cache', () => {
  it('gives an engine whose sessions come from the cache the same steps, bit for bit, as one that optimised them', async () => {
    const dir = freshDir();
    const before = process.env.R1_SESSION_CACHE;
    process.env.R1_SESSION_CACHE = dir; // engine threads copy the environment when they start
    try {
      const run = async () => {
        const engine = await Engine.start({ config, seed: 3, device: { kind: 'cpu', threads: 1 } });
        try {
          const metrics = await engine.sftStep(batch, hp);
          const logprobs = await engine.logprobs(batch.sequences);
          return { metrics, logprobs, state: await engine.exportState() };
        } finally {
          await engine.close();
        }
      };
      const fresh = await run();
      const entries = fs.readdirSync(dir);
      assert.equal(entries.length, 4, `one entry per graph (SFT gradient, the update of a layer and of the rest, log-probs), nothing else: ${entries.join(', ')}`);
      const mtimes = entries.map((f) => fs.statSync(path.join(dir, f)).mtimeMs);

      const cached = await run();
      assert.deepEqual(fs.readdirSync(dir), entries, 'the second engine wrote no entries of its own');
      assert.deepEqual(entries.map((f) => fs.statSync(path.join(dir, f)).mtimeMs), mtimes, 'nor rewrote the existing ones');
      assert.deepEqual(cached.metrics, fresh.metrics);
      cached.logprobs.forEach((lp, i) => assert.deepEqual(lp, fresh.logprobs[i]));
      for (const name of Object.keys(fresh.state.weights)) {
        assert.deepEqual(cached.state.weights[name].data, fresh.state.weights[name].data, `weight ${name}`);
        assert.deepEqual(cached.state.optimizer.m[name].data, fresh.state.optimizer.m[name].data, `first moment of ${name}`);
        assert.deepEqual(cached.state.optimizer.v[name].data, fresh.state.optimizer.v[name].data, `second moment of ${name}`);
      }
    } finally {
      if (before === undefined) delete process.env.R1_SESSION_CACHE;
      else process.env.R1_SESSION_CACHE = before;
    }
  });

  it('rebuilds an entry that was cut short or altered instead of loading it', async () => {
    const dir = freshDir();
    const model = chainedMatMulModel(3, 4);
    const options = cpuSessionOptions(1);
    const open = () => optimisedSession(model, options, dir, onnxruntimeVersion());
    const feeds = { x: new Tensor('float32', Float32Array.from({ length: 9 }, (_, i) => i / 7 - 0.5), [3, 3]), w: new Tensor('float32', Float32Array.from({ length: 9 }, (_, i) => (i % 4) / 3 - 0.4), [3, 3]) };
    const output = async (s: { session: { run: (f: typeof feeds) => Promise<Record<string, Tensor>> } }) => (await s.session.run(feeds)).y.data as Float32Array;

    const built = await open();
    assert.equal(built.cached, false, 'an empty cache builds');
    const expected = await output(built);
    const [entry] = fs.readdirSync(dir);
    const file = path.join(dir, entry);
    const whole = fs.readFileSync(file);

    const damaged: [string, Buffer][] = [
      ['cut short', whole.subarray(0, Math.floor(whole.length / 2))],
      ['empty', Buffer.alloc(0)],
      ['one byte of the model changed', Buffer.from(whole).fill(whole[whole.length - 5] ^ 0x40, whole.length - 5, whole.length - 4)],
      ['not an entry at all', Buffer.from('hello')],
    ];
    for (const [what, bytes] of damaged) {
      // Each rebuild rewrote the entry: it loads again.
      const hit = await open();
      assert.equal(hit.cached, true, `an intact entry loads (before: ${what})`);
      assert.deepEqual(await output(hit), expected);
      fs.writeFileSync(file, bytes);
      const rebuilt = await open();
      assert.equal(rebuilt.cached, false, `an entry ${what} is not loaded`);
      assert.deepEqual(await output(rebuilt), expected);
      assert.deepEqual(fs.readdirSync(dir), [entry], 'no scratch file is left behind');
    }
    assert.equal((await open()).cached, true, 'the last damaged entry was replaced by a whole one');
  });

  it('keys entries by the model and the session options', async () => {
    const dir = freshDir();
    const open = (model: Uint8Array, threads: number) => optimisedSession(model, cpuSessionOptions(threads), dir, onnxruntimeVersion());
    assert.equal((await open(chainedMatMulModel(3, 2), 1)).cached, false);
    assert.equal((await open(chainedMatMulModel(3, 3), 1)).cached, false, 'another model');
    assert.equal((await open(chainedMatMulModel(3, 2), 2)).cached, false, 'other options');
    assert.equal((await open(chainedMatMulModel(3, 2), 1)).cached, true);
    assert.equal(fs.readdirSync(dir).length, 3);
  });

  it('names the folder, and how to choose another, when it cannot be used', async () => {
    const file = path.join(freshDir(), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    const dir = path.join(file, 'cache');
    await assert.rejects(optimisedSession(chainedMatMulModel(2, 1), cpuSessionOptions(1), dir, onnxruntimeVersion()), (err: Error) => {
      assert.ok(err.message.includes(dir), err.message);
      assert.match(err.message, /R1_SESSION_CACHE/);
      return true;
    });
  });
});
