import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineThread, type EngineThreadError } from '../../engine/thread';

const fixture = path.join(__dirname, 'fixtures', 'engine-module.js');
// 512x512 MatMuls: about a second of one core, in a single blocking session.run().
const SIZE = 512;
const DEPTH = 200;

/** Runs `work` while a 20 ms interval ticks on this thread; returns the longest gap between ticks. */
async function longestTimerGap<T>(work: () => Promise<T>): Promise<{ gap: number; result: T }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 20);
  try {
    const result = await work();
    gap = Math.max(gap, performance.now() - last);
    return { gap, result };
  } finally {
    clearInterval(timer);
  }
}

describe('EngineThread', () => {
  let thread: EngineThread;
  before(async () => {
    thread = await EngineThread.start(fixture, { intraOpThreads: 1 });
  });
  after(() => thread.terminate());

  it('keeps this thread responsive while an onnxruntime run blocks the engine thread', async (t) => {
    await thread.call('load', SIZE, DEPTH);
    const { gap, result } = await longestTimerGap(() => thread.call<{ ms: number; y: Float32Array }>('run'));
    t.diagnostic(`run ${result.ms.toFixed(0)} ms, longest timer gap ${gap.toFixed(0)} ms`);
    assert.ok(result.ms > 300, `the run should be long enough to prove anything (took ${result.ms.toFixed(0)} ms)`);
    // Relative bound: a busy machine slows the run and the timer alike.
    assert.ok(gap < 0.25 * result.ms, `timer stalled for ${gap.toFixed(0)} ms during a ${result.ms.toFixed(0)} ms run`);
    assert.equal(result.y.length, SIZE * SIZE);
  });

  it('(control) the same run on this thread does stall the timer', async (t) => {
    const engineModule = require(fixture) as typeof import('./fixtures/engine-module');
    await engineModule.load(SIZE, DEPTH);
    const { gap, result } = await longestTimerGap(() => engineModule.run());
    t.diagnostic(`run ${result.ms.toFixed(0)} ms, longest timer gap ${gap.toFixed(0)} ms`);
    assert.ok(gap > 0.8 * result.ms, `expected a stall of about ${result.ms.toFixed(0)} ms, longest gap was ${gap.toFixed(0)} ms`);
  });

  it('keeps module state between calls and passes start options to the module', async () => {
    assert.equal(await thread.call('count'), 1);
    assert.equal(await thread.call('count'), 2);
    assert.deepEqual(await thread.call('threadOptions'), { intraOpThreads: 1 });
  });

  it('transfers whole typed-array buffers in results and copies partial views', async () => {
    const got = await thread.call<{ whole: Float32Array; part: Float32Array }>('arrays');
    assert.deepEqual([...got.whole], [1, 2, 3]);
    assert.deepEqual([...got.part], [4, 4]);
    assert.deepEqual(await thread.call('lastResultByteLengths'), { whole: 0, part: 8 });
  });

  it('fails a call whose result holds an array it handed over before, instead of never answering', async () => {
    // postMessage silently drops a message whose transfer list holds a detached buffer: the call
    // would wait forever (a GRPO step of the SmolLM2 demo did, on its second exportState).
    assert.deepEqual([...(await thread.call<{ kept: Float32Array }>('keptArray')).kept], [5, 6]);
    await assert.rejects(thread.call('keptArray'), /keptArray: its result could not be sent.*detached.*return copies of arrays it keeps/);
    assert.deepEqual(await thread.call('threadOptions'), { intraOpThreads: 1 }, 'the thread keeps working');
  });

  it('copies typed arrays in arguments: the caller keeps them, the thread gets arrays of its own', async () => {
    const weights = Float32Array.from([1.5, -2, 3]);
    const bytes = Buffer.from('abc'); // a view into Node's shared Buffer pool
    const arg: Record<string, unknown> = { weights, again: weights, bytes };
    arg.self = arg;
    const got = await thread.call('received', arg);
    assert.deepEqual(got, { weights: [1.5, -2, 3], bytes: [97, 98, 99], sameArray: true, ownBuffers: true, cycleKept: true });
    assert.deepEqual([...weights], [1.5, -2, 3]);
    assert.equal(bytes.toString(), 'abc');
  });

  it('rethrows errors with their name, message and non-retryable flag', async () => {
    await assert.rejects(thread.call('fail'), (err: EngineThreadError) => {
      assert.equal(err.name, 'ShapeError');
      assert.equal(err.message, 'bad batch shape');
      assert.equal(err.nonRetryable, true);
      return true;
    });
    await assert.rejects(thread.call('noSuchFunction'), /exports no function "noSuchFunction"/);
    assert.equal(await thread.call('count'), 3, 'the thread keeps working after a failed call');
  });
});

describe('EngineThread crashes', () => {
  it('rejects pending and later calls when the thread dies', async () => {
    const thread = await EngineThread.start(fixture);
    const pending = thread.call('crashSoon');
    await assert.rejects(pending, /engine thread \(.*engine-module\.js\) crashed: boom in a timer/);
    await assert.rejects(thread.call('count'), /crashed: boom in a timer/);
    await thread.terminate();
  });

  it('rejects pending calls when the thread exits', async () => {
    const thread = await EngineThread.start(fixture);
    await assert.rejects(thread.call('exitNow'), /exited unexpectedly with code 3/);
    await thread.terminate();
  });

  it('fails to start on a module that cannot be loaded', async () => {
    await assert.rejects(EngineThread.start(path.join(__dirname, 'fixtures', 'missing.js')), /could not load .*missing\.js: Cannot find module/);
    await assert.rejects(EngineThread.start('relative/module.js'), /absolute module path/);
  });

  it('rejects calls still pending at terminate()', async () => {
    const thread = await EngineThread.start(fixture);
    await thread.call('load', 64, 1);
    const pending = assert.rejects(thread.call('crashSoon'), /was terminated/);
    await thread.terminate();
    await pending;
  });
});
