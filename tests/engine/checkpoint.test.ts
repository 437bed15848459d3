import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTrainerState, encodeTrainerState, type TrainerState } from '../../engine/checkpoint';
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

describe('trainer checkpoint', () => {
  it('round-trips weights, optimizer, RNG and extras exactly, as three files', () => {
    const state = fullState();
    const files = encodeTrainerState(state);
    assert.deepEqual(Object.keys(files).sort(), ['model.safetensors', 'optimizer.safetensors', 'state.json']);
    assert.deepEqual(decodeTrainerState(files, shapes), state);
    assert.deepEqual(encodeTrainerState(state), files, 'encoding is deterministic');
  });

  it('takes expected shapes as a function of the stored config', () => {
    const files = encodeTrainerState(fullState());
    let seen: unknown;
    decodeTrainerState(files, (config) => ((seen = config), shapes));
    assert.deepEqual(seen, { hiddenSize: 3, vocabSize: 5 });
  });

  it('writes no optimizer file for weights-only state', () => {
    const files = encodeTrainerState({ config: {}, weights: tensors(1) });
    assert.deepEqual(Object.keys(files).sort(), ['model.safetensors', 'state.json']);
    assert.equal(decodeTrainerState(files, shapes).optimizer, undefined);
  });

  it('refuses weights or moments of the wrong shape, naming file and tensor', () => {
    const bad = { ...fullState(), weights: tensors(1, { ...shapes, 'model.norm.weight': [4] }) };
    assert.throws(() => decodeTrainerState(encodeTrainerState(bad), shapes), /model\.safetensors: tensor "model\.norm\.weight" has shape \[4\], expected \[3\]/);
    const badM = fullState();
    badM.optimizer!.m = tensors(2, { 'model.embed_tokens.weight': [5, 3] });
    assert.throws(() => decodeTrainerState(encodeTrainerState(badM), shapes), /optimizer\.safetensors: missing tensor "m\.model\.norm\.weight"/);
  });

  it('refuses a missing or inconsistent file set and a malformed state.json', () => {
    const { 'optimizer.safetensors': _opt, ...noOptimizer } = encodeTrainerState(fullState());
    assert.throws(() => decodeTrainerState(noOptimizer, shapes), /disagree/);
    const { 'state.json': _state, ...noState } = encodeTrainerState(fullState());
    assert.throws(() => decodeTrainerState(noState, shapes), /has no state\.json/);
    const files = { ...encodeTrainerState(fullState()), 'state.json': Buffer.from('{"format":"r1-trainer-state/2"}') };
    assert.throws(() => decodeTrainerState(files, shapes), /state\.json: not a valid trainer state/);
  });
});
