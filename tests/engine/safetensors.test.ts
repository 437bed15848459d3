import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkShapes, readSafetensors, writeSafetensors } from '../../engine/safetensors';
import type { NamedTensors } from '../../engine/tensors';
import { Rng } from '../../engine/rng';

/** A safetensors file assembled byte by byte, independently of writeSafetensors. */
function handMade(header: object, data: number[]): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

function hfWeights(): NamedTensors {
  const rng = new Rng(11);
  const t = (dims: number[]) => ({ dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (rng.next() - 0.5) * 8) });
  return {
    'model.embed_tokens.weight': t([16, 8]),
    'model.layers.0.self_attn.q_proj.weight': t([8, 8]),
    'model.layers.0.input_layernorm.weight': t([8]),
    'model.norm.weight': t([8]),
    'lm_head.weight': t([16, 8]),
  };
}

describe('readSafetensors', () => {
  it('parses a hand-made file: F32, F16 (incl. subnormal and infinity) and BF16', () => {
    const file = handMade(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [8, 16] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [16, 18] },
      },
      [
        ...[0x00, 0x00, 0xc0, 0x3f], // 1.5f
        ...[0x00, 0x00, 0x00, 0xc0], // -2f
        ...[0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c], // f16: 1, -2, 2^-24, +inf
        ...[0x80, 0x3f], // bf16: 1
      ],
    );
    const t = readSafetensors(file.subarray(0), 'hand.safetensors');
    assert.deepEqual(Object.keys(t).sort(), ['a', 'b', 'h']);
    assert.deepEqual(t.a, { dims: [2], data: Float32Array.from([1.5, -2]) });
    assert.deepEqual(t.h, { dims: [2, 2], data: Float32Array.from([1, -2, 2 ** -24, Infinity]) });
    assert.deepEqual(t.b, { dims: [1], data: Float32Array.from([1]) });
  });

  it('reads data that is not 4-byte aligned in memory', () => {
    const file = writeSafetensors({ x: { dims: [3], data: Float32Array.from([1, 2, 3]) } });
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    assert.deepEqual(readSafetensors(shifted).x.data, Float32Array.from([1, 2, 3]));
  });

  it('refuses malformed files, naming the file and the tensor', () => {
    const bad = (buf: Uint8Array, re: RegExp) => assert.throws(() => readSafetensors(buf, 'ckpt/model.safetensors'), re);
    bad(Buffer.from([1, 2, 3]), /ckpt\/model\.safetensors: .*too short/);
    bad(handMade({}, []).subarray(0, 9), /runs past the end/);
    bad(Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{no}')]), /not UTF-8 JSON/);
    bad(handMade({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)), /tensor "w" has dtype "I64"/);
    bad(handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)), /tensor "w" holds 8 bytes but shape \[3\] of F32 needs 12/);
    bad(handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Array(8).fill(0)), /tensor "w" data_offsets \[0, 16\] lie outside/);
  });
});

describe('writeSafetensors', () => {
  it('round-trips Hugging Face-named f32 weights exactly', () => {
    const w = hfWeights();
    assert.deepEqual(readSafetensors(writeSafetensors(w)), w);
  });

  it('writes an 8-byte aligned, sorted, deterministic layout with metadata', () => {
    const a = { dims: [1], data: Float32Array.from([1]) };
    const b = { dims: [2], data: Float32Array.from([2, 3]) };
    const file = writeSafetensors({ b, a }, { metadata: { z: '1', format: 'pt' } });
    assert.deepEqual(file, writeSafetensors({ a, b }, { metadata: { format: 'pt', z: '1' } }));
    const headerLen = Number(file.readBigUInt64LE(0));
    assert.equal(headerLen % 8, 0);
    const header = JSON.parse(file.subarray(8, 8 + headerLen).toString());
    assert.deepEqual(Object.keys(header), ['__metadata__', 'a', 'b']);
    assert.deepEqual(header.__metadata__, { format: 'pt', z: '1' });
    assert.deepEqual(header.b, { dtype: 'F32', shape: [2], data_offsets: [4, 12] });
    assert.deepEqual([...file.subarray(8 + headerLen)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40]);
  });

  it('round-trips F16 and BF16 within their precision', () => {
    const w = hfWeights();
    for (const [dtype, relTol] of [['F16', 2 ** -11], ['BF16', 2 ** -8]] as const) {
      const back = readSafetensors(writeSafetensors(w, { dtype }));
      for (const [name, t] of Object.entries(w)) {
        assert.deepEqual(back[name].dims, t.dims);
        t.data.forEach((x, i) => assert.ok(Math.abs(back[name].data[i] - x) <= Math.abs(x) * relTol + 1e-7, `${dtype} ${name}[${i}]: ${back[name].data[i]} vs ${x}`));
      }
    }
  });

  it('rounds F16 and BF16 to nearest even, saturating to infinity', () => {
    const values = Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65520, 1e-8, 3 * 2 ** -25, -0, NaN]);
    const f16 = readSafetensors(writeSafetensors({ v: { dims: [values.length], data: values } }, { dtype: 'F16' })).v.data;
    assert.deepEqual([...f16], [1, 1 + 2 * 2 ** -10, 65504, Infinity, 0, 2 * 2 ** -24, -0, NaN]);
    const bf = readSafetensors(writeSafetensors({ v: { dims: [3], data: Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN]) } }, { dtype: 'BF16' })).v.data;
    assert.deepEqual([...bf], [1, 1 + 2 * 2 ** -7, NaN]);
  });

  it('refuses a tensor whose data does not fill its shape', () => {
    assert.throws(() => writeSafetensors({ 'lm_head.weight': { dims: [2, 2], data: new Float32Array(3) } }), /"lm_head.weight" has 3 values but shape \[2,2\] needs 4/);
  });
});

describe('checkShapes', () => {
  it('refuses a wrong-shape, missing or unexpected tensor, naming each', () => {
    const w = hfWeights();
    const expected = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t.dims]));
    checkShapes(readSafetensors(writeSafetensors(w)), expected, 'model.safetensors');

    const wrong = { ...w, 'lm_head.weight': { dims: [8, 16], data: w['lm_head.weight'].data } };
    assert.throws(
      () => checkShapes(readSafetensors(writeSafetensors(wrong)), expected, 'model.safetensors'),
      /^Error: model\.safetensors: tensor "lm_head\.weight" has shape \[8,16\], expected \[16,8\]$/,
    );
    const { 'model.norm.weight': _dropped, ...missing } = w;
    assert.throws(() => checkShapes(missing, expected, 'f'), /missing tensor "model\.norm\.weight" \(expected shape \[8\]\)/);
    assert.throws(() => checkShapes({ ...w, extra: w['model.norm.weight'] }, expected, 'f'), /unexpected tensor "extra"/);
  });
});
