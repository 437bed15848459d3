/**
 * One gradient rule per differentiable op: given the node and the gradient of its output,
 * emit the gradients of its inputs (undefined for inputs that carry no gradient, like indices).
 * Broadcasting ops sum their gradient back to each input's shape with `sumTo`.
 */
import { Graph, Node, Value } from './onnx/builder';
import { Dim, dimProduct, formatDims, sameDims } from './onnx/shape';

export type GradientRule = (g: Graph, node: Node, dy: Value) => (Value | undefined)[];

/** Sums a broadcast gradient back to the shape of the input that was broadcast. */
export function sumTo(g: Graph, x: Value, dims: readonly Dim[]): Value {
  let y = x;
  const extra = y.dims.length - dims.length;
  if (extra > 0) y = g.reduceSum(y, [...Array(extra).keys()]);
  const axes = dims.flatMap((d, i) => (d === 1 && y.dims[i] !== 1 ? [i] : []));
  if (axes.length > 0) y = g.reduceSum(y, axes, true);
  if (!sameDims(y.dims, dims)) throw new Error(`sumTo: ${x.name} ${formatDims(x.dims)} does not reduce to ${formatDims(dims)}`);
  return y;
}

function intAttr(n: Node, name: string): number {
  const a = n.attrs[name];
  if (a?.kind !== 'int') throw new Error(`${n.op} node ${n.name} has no int attribute ${name}`);
  return a.value;
}

/**
 * Zeros shaped like `x`, made when the graph runs: onnxruntime folds zeros of a static shape into
 * an initializer, and an embedding's are as large as the embedding (545 MB at V=151,936, d=896),
 * kept by every train session and written into its session-cache file. A shape that takes in a
 * dim of `anchor` (0 times it), read at run time, cannot be folded; an anchor of static dims
 * gives plain zeros.
 */
function zerosAtRunTime(g: Graph, x: Value, anchor: Value): Value {
  const axis = anchor.dims.findIndex((d) => typeof d !== 'number');
  if (axis < 0) return g.zerosLike(x);
  const attrs = { start: { kind: 'int', value: axis }, end: { kind: 'int', value: axis + 1 } } as const;
  const zero = g.mul(g.emit('Shape', [anchor], attrs, 'int64', [1]), g.ints([0]));
  return g.fill(x.dims, 0, x.dtype, g.add(g.shapeValue(x.dims), zero));
}

/** The gradient of a reduction, spread back over the reduced axes. */
function unreduce(g: Graph, n: Node, dy: Value): Value {
  const x = n.inputs[0];
  let y = dy;
  if (!n.args!.keepdims) for (const a of n.args!.axes!) y = g.unsqueeze(y, a);
  return g.expand(y, x.dims);
}

/**
 * d(a @ b)/db. A weight b shared by every row of a gets one 2-D product over all rows, not a
 * batch of [k, n] products. Its transposed operand is copied by an explicit Transpose whose perm
 * onnxruntime cannot fold into the MatMul: its MatMul with a transposed-A flag (FusedMatMul)
 * measured 20-40% slower than that copy plus a plain MatMul. The thinner of a and dy is the one
 * transposed; when that is dy, the product comes out in W's layout (W^T = b) and is handed back
 * transposed, which cancels against the Transpose rule's transpose (see Graph.transpose).
 */
function matmulGradB(g: Graph, a: Value, b: Value, dy: Value): Value {
  if (b.dims.length !== 2 || a.dims.length <= 2) return sumTo(g, g.matmul(g.transposeLast(a), dy), b.dims);
  const [k, n] = b.dims as number[];
  const rows = dimProduct(a.dims.slice(0, -1));
  if (k <= n) return g.matmul(rowsLast(g, a), g.reshape(dy, [rows, n]));
  return g.transposeLast(g.matmul(rowsLast(g, dy), g.reshape(a, [rows, k])));
}

/** [..., n] -> [n, rows]: moves the last axis first, then flattens the rest. */
export function rowsLast(g: Graph, x: Value): Value {
  const r = x.dims.length;
  return g.reshape(g.transpose(x, [r - 1, ...Array(r - 1).keys()]), [x.dims[r - 1], dimProduct(x.dims.slice(0, -1))]);
}

export const gradientRules: Record<string, GradientRule> = {
  Identity: (_g, _n, dy) => [dy],
  Add: (g, n, dy) => [sumTo(g, dy, n.inputs[0].dims), sumTo(g, dy, n.inputs[1].dims)],
  // Negating after summing touches the (often broadcast, so smaller) input shape only.
  Sub: (g, n, dy) => [sumTo(g, dy, n.inputs[0].dims), g.neg(sumTo(g, dy, n.inputs[1].dims))],
  Mul: (g, n, dy) => {
    const [a, b] = n.inputs;
    return [sumTo(g, g.mul(dy, b), a.dims), sumTo(g, g.mul(dy, a), b.dims)];
  },
  Div: (g, n, dy) => {
    const [a, b] = n.inputs;
    const y = n.outputs[0];
    // d/db = -sum(dy * y) / b: b is constant along the axes summed over, so it divides after the sum.
    return [sumTo(g, g.div(dy, b), a.dims), g.neg(g.div(sumTo(g, g.mul(dy, y), b.dims), b))];
  },
  Neg: (g, _n, dy) => [g.neg(dy)],
  Exp: (g, n, dy) => [g.mul(dy, n.outputs[0])],
  Log: (g, n, dy) => [g.div(dy, n.inputs[0])],
  Sqrt: (g, n, dy) => [g.div(g.mul(dy, g.scalar(0.5, dy.dtype)), n.outputs[0])],
  Reciprocal: (g, n, dy) => {
    const y = n.outputs[0];
    return [g.neg(g.mul(dy, g.mul(y, y)))];
  },
  Sigmoid: (g, n, dy) => {
    const y = n.outputs[0];
    return [g.mul(dy, g.mul(y, g.sub(g.scalar(1, y.dtype), y)))];
  },
  // Ties send the whole gradient to the first input.
  Min: (g, n, dy) => {
    const [a, b] = n.inputs;
    const first = g.lessOrEqual(a, b);
    const zero = g.scalar(0, dy.dtype);
    return [sumTo(g, g.where(first, dy, zero), a.dims), sumTo(g, g.where(first, zero, dy), b.dims)];
  },
  Max: (g, n, dy) => {
    const [a, b] = n.inputs;
    const first = g.lessOrEqual(b, a);
    const zero = g.scalar(0, dy.dtype);
    return [sumTo(g, g.where(first, dy, zero), a.dims), sumTo(g, g.where(first, zero, dy), b.dims)];
  },
  Where: (g, n, dy) => {
    const [cond, a, b] = n.inputs;
    const zero = g.scalar(0, dy.dtype);
    return [undefined, sumTo(g, g.where(cond, dy, zero), a.dims), sumTo(g, g.where(cond, zero, dy), b.dims)];
  },
  MatMul: (g, n, dy) => {
    const [a, b] = n.inputs;
    return [sumTo(g, g.matmul(dy, g.transposeLast(b)), a.dims), matmulGradB(g, a, b, dy)];
  },
  Transpose: (g, n, dy) => {
    const perm = n.attrs.perm.kind === 'ints' ? n.attrs.perm.value : [];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(dy, inverse)];
  },
  Reshape: (g, n, dy) => [g.reshape(dy, n.inputs[0].dims), undefined],
  Unsqueeze: (g, n, dy) => [g.reshape(dy, n.inputs[0].dims), undefined],
  Squeeze: (g, n, dy) => [g.reshape(dy, n.inputs[0].dims), undefined],
  Expand: (g, n, dy) => [sumTo(g, dy, n.inputs[0].dims), undefined],
  Concat: (g, n, dy) => {
    const axis = intAttr(n, 'axis');
    let at = 0;
    return n.inputs.map((x) => {
      const size = x.dims[axis];
      if (typeof size !== 'number') throw new Error(`Concat gradient: axis ${axis} of ${x.name} is symbolic`);
      at += size;
      return g.slice(dy, axis, at - size, at);
    });
  },
  Slice: (g, n, dy) => {
    const { axis, start } = n.args!;
    const d = n.inputs[0].dims[axis!];
    if (start === undefined || typeof d !== 'number') throw new Error(`Slice gradient: ${n.inputs[0].name} is sliced on a symbolic dim`);
    const size = dy.dims[axis!] as number;
    return [g.pad(dy, axis!, start, d - start - size)];
  },
  Pad: (g, n, dy) => {
    const { axis, before } = n.args!;
    return [g.slice(dy, axis!, before!, before! + (n.inputs[0].dims[axis!] as number)), undefined];
  },
  ReduceSum: (g, n, dy) => [unreduce(g, n, dy), undefined],
  ReduceMean: (g, n, dy) => {
    const x = n.inputs[0];
    const count = g.count(n.args!.axes!.map((a) => x.dims[a]));
    return [g.div(unreduce(g, n, dy), count), undefined];
  },
  Softmax: (g, n, dy) => {
    const y = n.outputs[0];
    const axis = intAttr(n, 'axis');
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  LogSoftmax: (g, n, dy) => {
    const y = n.outputs[0];
    const axis = intAttr(n, 'axis');
    return [g.sub(dy, g.mul(g.exp(y), g.reduceSum(dy, [axis], true)))];
  },
  // An embedding lookup: each picked row receives its output gradients (repeats add up).
  Gather: (g, n, dy) => {
    const [data, indices] = n.inputs;
    const rows = g.unsqueeze(g.cast(indices, 'int64'), -1);
    return [g.scatterAddRows(zerosAtRunTime(g, data, indices), rows, dy), undefined];
  },
  GatherElements: (g, n, dy) => {
    const [x, indices] = n.inputs;
    return [g.scatterAddElements(g.zerosLike(x), indices, dy, intAttr(n, 'axis')), undefined];
  },
};
