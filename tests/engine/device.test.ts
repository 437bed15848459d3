import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { createSession } from '../../engine/device';
import { deviceSchema } from '../../schemas/device';
import { chainedMatMulModel } from './fixtures/tiny-onnx';

const bindingDir = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
const hasCudaProvider = fs.existsSync(path.join(bindingDir, 'libonnxruntime_providers_cuda.so'));

describe('createSession', () => {
  it('runs a model on the CPU, with and without a thread count', async () => {
    const x = new Tensor('float32', Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const w = new Tensor('float32', Float32Array.from([1, 0, 0, 1]), [2, 2]);
    for (const device of [{ kind: 'cpu' as const }, { kind: 'cpu' as const, threads: 1 }]) {
      const session = await createSession(chainedMatMulModel(2, 1), device);
      const { y } = await session.run({ x, w });
      assert.deepEqual([...(y.data as Float32Array)].map((v) => Number(v.toFixed(5))), [1, 2, 3, 4].map((v) => Number(Math.tanh(v).toFixed(5))));
    }
  });

  it('refuses CUDA without its provider libraries, naming them, instead of falling back to CPU', { skip: hasCudaProvider && 'the CUDA provider is installed here' }, async () => {
    await assert.rejects(createSession(chainedMatMulModel(2, 1), { kind: 'cuda' }), (err: Error) => {
      assert.match(err.message, /CUDA device requested/);
      assert.match(err.message, /libonnxruntime_providers_shared\.so and libonnxruntime_providers_cuda\.so are missing/);
      assert.ok(err.message.includes(bindingDir), 'names the folder to put them in');
      assert.match(err.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
      return true;
    });
  });
});

describe('deviceSchema', () => {
  it('accepts the two device kinds and refuses typos', () => {
    assert.deepEqual(deviceSchema.parse({ kind: 'cuda', deviceId: 1 }), { kind: 'cuda', deviceId: 1 });
    assert.deepEqual(deviceSchema.parse({ kind: 'cpu' }), { kind: 'cpu' });
    assert.throws(() => deviceSchema.parse({ kind: 'gpu' }));
    assert.throws(() => deviceSchema.parse({ kind: 'cpu', thread: 4 }));
    assert.throws(() => deviceSchema.parse({ kind: 'cpu', threads: 0 }));
  });
});
