/**
 * The graph builder's own behaviour that shortens a session's creation: shape arithmetic recorded
 * once, and models onnxruntime reads as meant (negative ints and non-ASCII names included).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Graph } from '../../engine/onnx/builder';

test('shape arithmetic is recorded once; float ops and named values are not shared', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 4]);
  const y = g.input('y', 'float32', ['B', 'T', 4]);
  const rx = g.reshape(x, ['B', '2*T', 2]);
  const ry = g.reshape(y, ['B', '2*T', 2]);
  assert.equal(rx.dims.join(), ry.dims.join());
  const concats = g.nodes.filter((n) => n.op === 'Concat');
  assert.equal(concats.length, 1, 'both reshapes read one shape value');
  assert.equal(g.nodes.filter((n) => n.op === 'Reshape').length, 2);
  // Same float inputs twice: two nodes (autodiff sums a shared value's gradients in another order).
  const a = g.add(rx, ry);
  const b = g.add(rx, ry);
  assert.notEqual(a.name, b.name);
  // An int64 value made under a name of its own is its own node.
  const dims = g.shapeValue(['B', '2*T', 2]);
  const named = g.emit('Identity', [dims], {}, 'int64', [3], 'named');
  const again = g.emit('Identity', [dims], {}, 'int64', [3], 'named2');
  assert.notEqual(named.name, again.name);
  // Different declared dims are different values.
  const one = g.emit('Mul', [g.dimValue('B'), g.ints([2])], {}, 'int64', [1]);
  assert.equal(g.emit('Mul', [g.dimValue('B'), g.ints([2])], {}, 'int64', [1]), one);
  assert.notEqual(g.emit('Mul', [g.dimValue('B'), g.ints([2])], {}, 'int64', [2]), one);
});

test('a model with a negative int attribute and non-ASCII names runs as built', async () => {
  const g = new Graph();
  const x = g.input('x·ü', 'float32', [2, 3]);
  // axis -1 as written (the builder's own ops resolve negative axes): a 10-byte varint on the wire.
  const doubled = g.emit('Concat', [x, g.neg(x)], { axis: { kind: 'int', value: -1 } }, 'float32', [2, 6], 'sortie·é');
  g.output(doubled, 'sortie·é');
  const session = await InferenceSession.create(g.toModel());
  const out = await session.run({ 'x·ü': new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
  assert.deepEqual(Array.from(out['sortie·é'].data as Float32Array), [1, 2, 3, -1, -2, -3, 4, 5, 6, -4, -5, -6]);
  assert.deepEqual(out['sortie·é'].dims, [2, 6]);
});
