import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GgufFile } from '../../engine/gguf';
import { unpermuteRows } from '../../engine/gguf-model';
import { readSafetensors } from '../../engine/safetensors';
import { projectRoot } from '../../infra/local/paths';

const fixtures = join(projectRoot, 'tests', 'fixtures', 'gguf');

describe('GGUF', () => {
  it('dequantizes F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q5_K and Q6_K to exactly what gguf-py computes', () => {
    const expected = readSafetensors(readFileSync(join(fixtures, 'quants.expected.safetensors')));
    const file = GgufFile.open(join(fixtures, 'quants.gguf'));
    try {
      assert.deepEqual([...file.tensors.keys()].sort(), Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const got = file.read(name);
        assert.deepEqual(got.dims, want.dims, name);
        const diffs = got.data.findIndex((v, i) => !Object.is(v, want.data[i]));
        assert.equal(diffs, -1, `${name} (${file.tensors.get(name)!.type}): value ${diffs} is ${got.data[diffs]}, gguf-py has ${want.data[diffs]}`);
      }
      assert.equal(file.metadata.get('general.architecture'), 'llama');
    } finally {
      file.close();
    }
  });

  it('refuses a tensor type it does not read, naming file, tensor and type', () => {
    assert.throws(() => GgufFile.open(join(fixtures, 'unsupported.gguf')), /unsupported\.gguf: tensor "q2_k" has ggml type Q2_K, which is not supported/);
  });

  it("undoes llama.cpp's q/k row permutation per head", () => {
    // Two heads of head dim 4, one column: HF rows [a0 a1 b0 b1] of each head are stored as [a0 b0 a1 b1].
    const stored = { dims: [8, 1], data: Float32Array.from([0, 2, 1, 3, 10, 12, 11, 13]) };
    assert.deepEqual(Array.from(unpermuteRows(stored, 2).data), [0, 1, 2, 3, 10, 11, 12, 13]);
  });
});
