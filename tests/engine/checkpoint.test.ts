import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTrainerState, encodeTrainerState, filesInMemory, type CheckpointFile, type TrainerState } from '../../engine/checkpoint';
import { readSafetensorsStream, safetensorsFile } from '../../engine/safetensors';
import { Rng } from '../../engine/rng';
import type { NamedTensors } from '../../engine/tensors';

const shapes: Record<string, number[]> = { 'model.embed_tokens.weight': [5, 3], 'model.norm.weight': [3] };

function tensors(seed: number, dims = shapes): NamedTensors {
  const rng = new Rng(seed);
  return Object.fromEntries(
    Object.entries(dims).map(([name, d]) => [name, { dims: d, data: Float32Array.from({ length: d.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5) }]),
  );
}

function fullState(): TrainerState {
  const rng = new Rng(9);
  rng.next();
  return {
    config: { hiddenSize: 3, vocabSize: 5 },
    weights: tensors(1),
    optimizer: { m: tensors(2), v: tensors(3), step: 17 },
    rng: rng.getState(),
    extra: { dataCursor: 128 },
  };
}

/** Each file's bytes, whole: equal states give equal bytes. */
function bytesOf(files: Record<string, CheckpointFile>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(files).map(([k, f]) => [k, Buffer.from(f instanceof Uint8Array ? f : Buffer.concat([...f.chunks()]))]));
}

const decode = (files: Record<string, CheckpointFile>, expected: Parameters<typeof decodeTrainerState>[1] = shapes, opts = {}) =>
  decodeTrainerState(filesInMemory(files), expected, opts);

describe('trainer checkpoint', () => {
  it('round-trips weights, optimizer, RNG and extras exactly, as three files', async () => {
    const state = fullState();
    const files = encodeTrainerState(state);
    assert.deepEqual(Object.keys(files).sort(), ['model.safetensors', 'optimizer.safetensors', 'state.json']);
    assert.deepEqual(await decode(files), state);
    assert.deepEqual(bytesOf(encodeTrainerState(state)), bytesOf(files), 'encoding is deterministic');
  });

  it('shards tensor files Hugging Face style when they outgrow the shard size, and reads them back', async () => {
    const state = { ...fullState(), assets: { 'tokenizer.json': Buffer.from('{"model":{}}') } };
    const files = encodeTrainerState(state, 30); // 15 values of 4 bytes: every tensor its own shard
    assert.deepEqual(Object.keys(files).sort(), [
      'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json',
      'optimizer-00001-of-00004.safetensors', 'optimizer-00002-of-00004.safetensors', 'optimizer-00003-of-00004.safetensors', 'optimizer-00004-of-00004.safetensors',
      'optimizer.safetensors.index.json', 'state.json', 'tokenizer.json',
    ]);
    const index = JSON.parse(bytesOf(files)['model.safetensors.index.json'].toString());
    assert.deepEqual(index.weight_map, { 'model.embed_tokens.weight': 'model-00001-of-00002.safetensors', 'model.norm.weight': 'model-00002-of-00002.safetensors' });
    assert.deepEqual(await decode(files), state);
    const { 'model-00002-of-00002.safetensors': _gone, ...missing } = files;
    await assert.rejects(decode(missing), /model\.safetensors\.index\.json: weight_map names model-00002-of-00002\.safetensors, which is not in the checkpoint/);
  });

  it('reads a tensor file streamed in chunks of any size, and refuses one cut short', async () => {
    const whole = Buffer.concat([...safetensorsFile(tensors(4)).chunks()]);
    for (const size of [1, 7, 64, whole.length]) {
      const chunks = (async function* () {
        for (let i = 0; i < whole.length; i += size) yield whole.subarray(i, i + size);
      })();
      assert.deepEqual(await readSafetensorsStream(chunks, 'x.safetensors', whole.length), tensors(4));
    }
    const cut = (async function* () {
      yield whole.subarray(0, whole.length - 5);
    })();
    await assert.rejects(readSafetensorsStream(cut, 'x.safetensors'), /x\.safetensors: tensor "model\.norm\.weight" is cut short/);
  });

  it('takes expected shapes as a function of the stored config', async () => {
    const files = encodeTrainerState(fullState());
    let seen: unknown;
    await decode(files, (config) => ((seen = config), shapes));
    assert.deepEqual(seen, { hiddenSize: 3, vocabSize: 5 });
  });

  it('reads the weights alone when asked', async () => {
    const state = await decode(encodeTrainerState(fullState()), shapes, { weightsOnly: true });
    assert.equal(state.optimizer, undefined);
    assert.deepEqual(state.weights, fullState().weights);
  });

  it('writes no optimizer file for weights-only state', async () => {
    const files = encodeTrainerState({ config: {}, weights: tensors(1) });
    assert.deepEqual(Object.keys(files).sort(), ['model.safetensors', 'state.json']);
    assert.equal((await decode(files)).optimizer, undefined);
  });

  it('refuses weights or moments of the wrong shape, naming file and tensor', async () => {
    const bad = { ...fullState(), weights: tensors(1, { ...shapes, 'model.norm.weight': [4] }) };
    await assert.rejects(decode(encodeTrainerState(bad)), /model\.safetensors: tensor "model\.norm\.weight" has shape \[4\], expected \[3\]/);
    const badM = fullState();
    badM.optimizer!.m = tensors(2, { 'model.embed_tokens.weight': [5, 3] });
    await assert.rejects(decode(encodeTrainerState(badM)), /optimizer\.safetensors: missing tensor "m\.model\.norm\.weight"/);
  });

  it('refuses a missing or inconsistent file set and a malformed state.json', async () => {
    const { 'optimizer.safetensors': _opt, ...noOptimizer } = encodeTrainerState(fullState());
    await assert.rejects(decode(noOptimizer), /disagree/);
    const { 'state.json': _state, ...noState } = encodeTrainerState(fullState());
    await assert.rejects(decode(noState), /has no state\.json/);
    const files = { ...encodeTrainerState(fullState()), 'state.json': Buffer.from('{"format":"r1-trainer-state/2"}') };
    await assert.rejects(decode(files), /state\.json: not a valid trainer state/);
  });
});
