/**
 * A typed ONNX graph builder. Every op checks its input types and computes its output shape
 * (symbolic dims included), so a wrong shape fails while building, naming the op and the shapes,
 * instead of deep inside onnxruntime. The recorded node list doubles as the tape for autodiff.
 */
import { AttributeValue, DataType, DType, GraphProto, TensorProto, encodeModel } from './proto';
import { Dim, broadcastDims, dimProduct, formatDims, normAxis, sameDims } from './shape';

export type { DType } from './proto';
export type { Dim } from './shape';

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly Dim[];
}

export interface Node {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Record<string, AttributeValue>;
  /** Static arguments that ONNX passes as tensors, kept for the gradient rules. */
  readonly args?: StaticArgs;
}

export interface StaticArgs {
  axes?: number[];
  keepdims?: boolean;
  axis?: number;
  start?: number; // Slice start, already resolved against the dim
  before?: number; // Pad
}

export type FloatType = 'float32' | 'float64';

/**
 * Nodes `first` to `last` (inclusive) of the tape, computing `node.outputs[0]` from `node.inputs`,
 * that autodiff treats as one op with the gradient `rule` (see Graph.composite).
 */
export interface Composite {
  readonly first: number;
  readonly last: number;
  readonly node: Node;
  readonly rule: (dy: Value) => (Value | undefined)[];
}

/** The opset every engine graph targets: ORT 1.30 runs it on CPU and CUDA. */
export const OPSET = 21;

const INT64_MAX = 2 ** 62; // "to the end" for Slice; anything past the dim works

function rawBytes(dtype: DType, data: ArrayLike<number>): Uint8Array {
  const arr =
    dtype === 'float32' ? Float32Array.from(data)
    : dtype === 'float64' ? Float64Array.from(data)
    : dtype === 'int32' ? Int32Array.from(data)
    : dtype === 'int64' ? BigInt64Array.from(Array.from(data, (x) => BigInt(x)))
    : Uint8Array.from(data);
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly composites: Composite[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly symbols = new Map<string, { value: Value; axis: number }>();
  /** Symbolic dims no graph input has (see `defineDim`), with their run-time sizes. */
  private readonly derivedDims = new Map<string, Value>();
  private readonly cache = new Map<string, Value>();
  /** The node that computed each value, for peephole simplifications (see `transpose`). */
  private readonly producers = new Map<string, Node>();
  private counter = 0;

  /** `float` is the element type of activations and of the constants ops create. */
  constructor(readonly float: FloatType = 'float32') {}

  // ---- graph boundary -------------------------------------------------------------------

  /** Declares a graph input; its symbolic dims become readable at run time via `dimValue`. */
  input(name: string, dtype: DType, dims: readonly Dim[]): Value {
    const v: Value = { name, dtype, dims: [...dims] };
    this.inputs.push(v);
    dims.forEach((d, axis) => {
      if (typeof d === 'string' && !d.includes('*') && !this.symbols.has(d)) this.symbols.set(d, { value: v, axis });
    });
    return v;
  }

  /** Marks `v` as a graph output called `name`. */
  output(v: Value, name: string): Value {
    const out = v.name === name ? v : this.emit('Identity', [v], {}, v.dtype, v.dims, name);
    this.outputs.push(out);
    return out;
  }

  constant(data: ArrayLike<number>, dtype: DType, dims: readonly number[]): Value {
    const key = `${dtype}|${dims}|${Array.from(data)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const v: Value = { name: this.fresh('const'), dtype, dims: [...dims] };
    this.initializers.push({ name: v.name, dtype, dims: [...dims], raw: rawBytes(dtype, data) });
    this.cache.set(key, v);
    return v;
  }

  /**
   * A constant whose data is not in the model but given to the session beside it, under `name`
   * (createSession's `initializers`): large tensors a session holds for its whole life.
   */
  external(name: string, dtype: DType, dims: readonly number[]): Value {
    this.initializers.push({ name, dtype, dims: [...dims], external: name });
    return { name, dtype, dims: [...dims] };
  }

  /** A rank-0 constant, by default of the graph's float type. */
  scalar(x: number, dtype: DType = this.float): Value {
    return this.constant([x], dtype, []);
  }

  ints(values: readonly number[]): Value {
    return this.constant(values, 'int64', [values.length]);
  }

  toModel(): Uint8Array {
    return encodeModel(this.toGraphProto(), OPSET);
  }

  /** The graph as ONNX's GraphProto: what toModel encodes, or the body of a control-flow op (engine/looped.ts). */
  toGraphProto(): GraphProto {
    const info = (v: Value) => ({ name: v.name, dtype: v.dtype, dims: [...v.dims] });
    const nodes = this.liveNodes();
    const used = new Set(nodes.flatMap(reads));
    const outputNames = new Set(this.outputs.map((o) => o.name));
    return {
      name: 'r1',
      nodes: nodes.map((n) => ({
        opType: n.op,
        name: n.name,
        inputs: n.inputs.map((i) => i.name),
        outputs: n.outputs.map((o) => o.name),
        attributes: n.attrs,
      })),
      initializers: this.initializers.filter((t) => used.has(t.name)),
      inputs: this.inputs.map(info),
      outputs: this.outputs.map(info),
      // The shape of every value computed: onnxruntime's own inference loses symbolic dims at
      // each Reshape, and its memory planner then finds no buffer to reuse, scanning a list of
      // dead buffers that grows with the graph for every value. Without these, creating a
      // SmolLM2 train-step session took 16 s in that scan alone; with them, under 2 s.
      valueInfo: nodes.flatMap((n) => n.outputs).filter((o) => !outputNames.has(o.name)).map(info),
    };
  }

  /**
   * The nodes some graph output depends on. Gradient rules emit the gradient of every input of
   * an op, also of inputs that need none (a constant table, the attention mask); onnxruntime runs
   * every node it is given, so those are dropped here.
   */
  private liveNodes(): Node[] {
    const live = new Set(this.outputs.map((o) => o.name));
    const kept: Node[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.outputs.some((o) => live.has(o.name))) continue;
      kept.push(n);
      for (const x of reads(n)) live.add(x);
    }
    return kept.reverse();
  }

  /**
   * Records the nodes `body` emits as one op `op` of `inputs` for autodiff, differentiated by
   * `rule` (given the output's gradient, one gradient per input, undefined where none flows).
   * For derivations no per-op rule can see, like attention's softmax backward. Values made
   * inside `body` must not be used outside it, since autodiff does not see them. `body` may read
   * a value an input was made from (another layout of it); gradients still flow through `inputs`.
   */
  composite(op: string, inputs: Value[], body: () => Value, rule: (dy: Value) => (Value | undefined)[]): Value {
    const first = this.nodes.length;
    const out = body();
    const last = this.nodes.length - 1;
    if (last < first || this.nodes[last].outputs[0] !== out) throw new Error(`composite ${op}: its output must come from the last node it emits`);
    this.composites.push({ first, last, node: { op, name: out.name, inputs, outputs: [out], attrs: {} }, rule });
    return out;
  }

  // ---- recording ------------------------------------------------------------------------

  private fresh(op: string): string {
    return `_${this.counter++}_${op}`;
  }

  /**
   * Records one node with a single output and returns that output. Shape arithmetic (an
   * unnamed int64 value computed from int64 values only) is recorded once: the shape of every
   * Reshape, Expand and Pad is assembled from the same few run-time dims, and SmolLM2's train
   * graph held 2,600 such Concats and Subs, all but 120 of them copies that onnxruntime merged
   * again while creating each session. No gradient flows through integers, so sharing them
   * changes nothing autodiff sees (units in autodiff.ts).
   */
  emit(op: string, inputs: Value[], attrs: Record<string, AttributeValue>, dtype: DType, dims: readonly Dim[], name?: string, args?: StaticArgs): Value {
    const shared = name === undefined && dtype === 'int64' && inputs.every((i) => i.dtype === 'int64');
    const key = shared ? `node|${op}|${formatDims(dims)}|${JSON.stringify(attrs)}|${inputs.map((i) => i.name)}` : '';
    const hit = shared ? this.cache.get(key) : undefined;
    if (hit) return hit;
    const out: Value = { name: name ?? this.fresh(op), dtype, dims: [...dims] };
    if (shared) this.cache.set(key, out);
    const node: Node = { op, name: out.name, inputs, outputs: [out], attrs, args };
    this.nodes.push(node);
    this.producers.set(out.name, node);
    return out;
  }

  /** Records one node with several outputs (a Loop's), named as given; autodiff does not go through it. */
  emitMany(op: string, inputs: Value[], attrs: Record<string, AttributeValue>, outputs: readonly Value[]): void {
    const node: Node = { op, name: outputs[0].name, inputs, outputs: [...outputs], attrs };
    this.nodes.push(node);
    for (const o of outputs) this.producers.set(o.name, node);
  }

  // ---- run-time shapes ------------------------------------------------------------------

  /**
   * Names a symbolic dim that is not the dim of any graph input (a part of one), computed at run
   * time by `size`, an int64 [1] value. Defining a name again keeps the first definition: a
   * name stands for one size.
   */
  defineDim(name: string, size: Value): void {
    if (name.includes('*') || /^\d+$/.test(name)) throw new Error(`defineDim: ${name} is not a symbol name`);
    if (this.symbols.has(name)) throw new Error(`defineDim: ${name} is the dim of a graph input`);
    if (!this.derivedDims.has(name)) this.derivedDims.set(name, size);
  }

  /** A dim as an int64 [1] tensor, read from the graph input that declared its symbols (or as `defineDim` gave it). */
  dimValue(d: Dim): Value {
    if (typeof d === 'number') return this.ints([d]);
    const key = `dim|${d}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let v: Value | undefined;
    for (const f of d.split('*')) {
      let fv: Value;
      if (/^\d+$/.test(f)) fv = this.ints([Number(f)]);
      else if (this.derivedDims.has(f)) fv = this.derivedDims.get(f)!;
      else {
        const src = this.symbols.get(f);
        if (!src) throw new Error(`dim ${f} is not the dim of any graph input`);
        const attrs = { start: { kind: 'int', value: src.axis }, end: { kind: 'int', value: src.axis + 1 } } as const;
        fv = this.emit('Shape', [src.value], attrs, 'int64', [1]);
      }
      v = v ? this.emit('Mul', [v, fv], {}, 'int64', [1]) : fv;
    }
    this.cache.set(key, v!);
    return v!;
  }

  /** The dims as an int64 shape tensor. */
  shapeValue(dims: readonly Dim[]): Value {
    if (dims.every((d) => typeof d === 'number')) return this.ints(dims as number[]);
    return this.emit('Concat', dims.map((d) => this.dimValue(d)), { axis: { kind: 'int', value: 0 } }, 'int64', [dims.length]);
  }

  /** The number of elements of `dims` as a scalar of the graph's float type. */
  count(dims: readonly Dim[]): Value {
    const n = dimProduct(dims);
    if (typeof n === 'number') return this.scalar(n);
    return this.cast(this.reshape(this.dimValue(n), []), this.float);
  }

  /**
   * Zeros shaped like `x`. Of a static shape, onnxruntime's constant folding would store them in
   * the optimised model: SmolLM2's embedding gradient starts as 113 MB of zeros, which every
   * session held and every cache entry wrote and read. Their shape plus 0 x a run-time dim is
   * the same shape, unknown before the run, so they stay a node that fills them when it runs.
   */
  zerosLike(x: Value): Value {
    const symbol = this.symbols.keys().next().value;
    const dims = x.dims;
    if (symbol === undefined || !dims.every((d) => typeof d === 'number')) return this.fill(dims, 0, x.dtype);
    const none = this.emit('Mul', [this.dimValue(symbol), this.ints([0])], {}, 'int64', [1]);
    return this.fill(dims, 0, x.dtype, this.emit('Add', [this.ints(dims as number[]), none], {}, 'int64', [dims.length]));
  }

  /** `dims` filled with x; `shape`: those dims as an int64 value computed some other way. */
  fill(dims: readonly Dim[], x: number, dtype: DType = this.float, shape: Value = this.shapeValue(dims)): Value {
    const value = { name: '', dtype, dims: [1], raw: rawBytes(dtype, [x]) };
    return this.emit('ConstantOfShape', [shape], { value: { kind: 'tensor', value } }, dtype, dims);
  }

  // ---- elementwise ----------------------------------------------------------------------

  private binary(op: string, a: Value, b: Value, outType?: DType): Value {
    if (a.dtype !== b.dtype) throw new Error(`${op}: dtype ${a.dtype} of ${a.name} differs from ${b.dtype} of ${b.name}`);
    const dims = broadcastDims(a.dims, b.dims);
    if (!dims) throw new Error(`${op}: cannot broadcast ${a.name} ${formatDims(a.dims)} with ${b.name} ${formatDims(b.dims)}`);
    return this.emit(op, [a, b], {}, outType ?? a.dtype, dims);
  }

  private unary(op: string, x: Value): Value {
    return this.emit(op, [x], {}, x.dtype, x.dims);
  }

  add(a: Value, b: Value) { return this.binary('Add', a, b); }
  sub(a: Value, b: Value) { return this.binary('Sub', a, b); }
  mul(a: Value, b: Value) { return this.binary('Mul', a, b); }
  div(a: Value, b: Value) { return this.binary('Div', a, b); }
  min(a: Value, b: Value) { return this.binary('Min', a, b); }
  max(a: Value, b: Value) { return this.binary('Max', a, b); }
  pow(a: Value, b: Value) { return this.binary('Pow', a, b); }
  less(a: Value, b: Value) { return this.binary('Less', a, b, 'bool'); }
  lessOrEqual(a: Value, b: Value) { return this.binary('LessOrEqual', a, b, 'bool'); }
  greater(a: Value, b: Value) { return this.binary('Greater', a, b, 'bool'); }
  and(a: Value, b: Value) { return this.binary('And', a, b); }
  neg(x: Value) { return this.unary('Neg', x); }
  exp(x: Value) { return this.unary('Exp', x); }
  log(x: Value) { return this.unary('Log', x); }
  sqrt(x: Value) { return this.unary('Sqrt', x); }
  reciprocal(x: Value) { return this.unary('Reciprocal', x); }
  sigmoid(x: Value) { return this.unary('Sigmoid', x); }
  cos(x: Value) { return this.unary('Cos', x); }
  sin(x: Value) { return this.unary('Sin', x); }

  where(cond: Value, a: Value, b: Value): Value {
    if (cond.dtype !== 'bool') throw new Error(`Where: condition ${cond.name} is ${cond.dtype}, not bool`);
    if (a.dtype !== b.dtype) throw new Error(`Where: dtype ${a.dtype} of ${a.name} differs from ${b.dtype} of ${b.name}`);
    const dims = broadcastDims(cond.dims, a.dims) && broadcastDims(broadcastDims(cond.dims, a.dims)!, b.dims);
    if (!dims) throw new Error(`Where: cannot broadcast ${formatDims(cond.dims)}, ${formatDims(a.dims)}, ${formatDims(b.dims)}`);
    return this.emit('Where', [cond, a, b], {}, a.dtype, dims);
  }

  cast(x: Value, dtype: DType): Value {
    return x.dtype === dtype ? x : this.emit('Cast', [x], { to: { kind: 'int', value: DataType[dtype] } }, dtype, x.dims);
  }

  // ---- linear algebra and layout --------------------------------------------------------

  /** Numpy matmul of [..., m, k] by [..., k, n]; batch dims broadcast. */
  matmul(a: Value, b: Value): Value {
    if (a.dtype !== b.dtype) throw new Error(`MatMul: dtype ${a.dtype} of ${a.name} differs from ${b.dtype} of ${b.name}`);
    if (a.dims.length < 2 || b.dims.length < 2) throw new Error(`MatMul: ${a.name} ${formatDims(a.dims)} and ${b.name} ${formatDims(b.dims)} must have rank >= 2`);
    const [m, k] = a.dims.slice(-2);
    const [k2, n] = b.dims.slice(-2);
    const batch = broadcastDims(a.dims.slice(0, -2), b.dims.slice(0, -2));
    if (k !== k2 || !batch) throw new Error(`MatMul: ${a.name} ${formatDims(a.dims)} does not multiply ${b.name} ${formatDims(b.dims)}`);
    return this.emit('MatMul', [a, b], {}, a.dtype, [...batch, m, n]);
  }

  /**
   * A transpose of a transpose is one transpose of the original, or the original itself. The
   * backward pass of `x @ transpose(w)` asks for `transpose(transpose(w))`; answering with `w`
   * leaves the forward transpose a single consumer, which onnxruntime folds into the MatMul.
   */
  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.length !== x.dims.length) throw new Error(`Transpose: perm [${perm}] does not fit ${x.name} ${formatDims(x.dims)}`);
    const inner = this.producers.get(x.name);
    if (inner?.op === 'Transpose' && inner.attrs.perm.kind === 'ints') {
      const innerPerm = inner.attrs.perm.value;
      const composed = perm.map((p) => innerPerm[p]);
      if (composed.every((p, i) => p === i)) return inner.inputs[0];
      return this.transpose(inner.inputs[0], composed);
    }
    if (perm.every((p, i) => p === i)) return x;
    return this.emit('Transpose', [x], { perm: { kind: 'ints', value: [...perm] } }, x.dtype, perm.map((p) => x.dims[p]));
  }

  /** Swaps the last two axes. */
  transposeLast(x: Value): Value {
    const r = x.dims.length;
    return this.transpose(x, [...Array(r - 2).keys(), r - 1, r - 2]);
  }

  reshape(x: Value, dims: readonly Dim[]): Value {
    if (dimProduct(x.dims) !== dimProduct(dims)) {
      throw new Error(`Reshape: ${x.name} ${formatDims(x.dims)} cannot become ${formatDims(dims)}`);
    }
    if (sameDims(x.dims, dims)) return x;
    // allowzero: a run-time size of 0 is an empty dim, not ONNX's default "copy the input's dim".
    return this.emit('Reshape', [x, this.shapeValue(dims)], { allowzero: { kind: 'int', value: 1 } }, x.dtype, dims);
  }

  unsqueeze(x: Value, axis: number): Value {
    const a = normAxis(axis, x.dims.length + 1, 'Unsqueeze');
    const dims = [...x.dims.slice(0, a), 1, ...x.dims.slice(a)];
    return this.emit('Unsqueeze', [x, this.ints([a])], {}, x.dtype, dims);
  }

  squeeze(x: Value, axis: number): Value {
    const a = normAxis(axis, x.dims.length, 'Squeeze');
    if (x.dims[a] !== 1) throw new Error(`Squeeze: axis ${a} of ${x.name} ${formatDims(x.dims)} is not 1`);
    return this.emit('Squeeze', [x, this.ints([a])], {}, x.dtype, x.dims.filter((_, i) => i !== a));
  }

  /** Broadcasts `x` to `dims`. */
  expand(x: Value, dims: readonly Dim[]): Value {
    const out = broadcastDims(x.dims, dims);
    if (!out || !sameDims(out, dims)) throw new Error(`Expand: ${x.name} ${formatDims(x.dims)} does not broadcast to ${formatDims(dims)}`);
    return this.emit('Expand', [x, this.shapeValue(dims)], {}, x.dtype, dims);
  }

  concat(xs: readonly Value[], axis: number): Value {
    const a = normAxis(axis, xs[0].dims.length, 'Concat');
    const sizes = xs.map((x) => x.dims[a]);
    for (const x of xs) {
      const ok = x.dtype === xs[0].dtype && x.dims.length === xs[0].dims.length && x.dims.every((d, i) => i === a || d === xs[0].dims[i]);
      if (!ok) throw new Error(`Concat: ${x.name} ${formatDims(x.dims)} does not fit ${xs[0].name} ${formatDims(xs[0].dims)} on axis ${a}`);
    }
    const size = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((p, q) => p + q, 0) : sizes.join('+');
    const dims = xs[0].dims.map((d, i) => (i === a ? size : d));
    return this.emit('Concat', [...xs], { axis: { kind: 'int', value: a } }, xs[0].dtype, dims);
  }

  /** x[..., start:end, ...] along one axis; `end` past the dim means "to the end". */
  slice(x: Value, axis: number, start: number, end: number = INT64_MAX): Value {
    const a = normAxis(axis, x.dims.length, 'Slice');
    const d = x.dims[a];
    let size: Dim;
    let from: number | undefined;
    if (typeof d === 'number') {
      from = Math.max(0, start < 0 ? start + d : Math.min(start, d));
      const e = Math.min(d, end < 0 ? end + d : end);
      size = Math.max(0, e - from);
    } else if (start < 0 && end >= INT64_MAX) {
      size = -start; // the last -start entries of a symbolic dim
    } else {
      throw new Error(`Slice: cannot size ${start}:${end} of symbolic dim ${d} of ${x.name}`);
    }
    const dims = x.dims.map((q, i) => (i === a ? size : q));
    return this.emit('Slice', [x, this.ints([start]), this.ints([end]), this.ints([a])], {}, x.dtype, dims, undefined, { axis: a, start: from });
  }

  /** Zero padding of `before`/`after` entries along one axis. */
  pad(x: Value, axis: number, before: number, after: number): Value {
    const a = normAxis(axis, x.dims.length, 'Pad');
    const d = x.dims[a];
    if (typeof d !== 'number') throw new Error(`Pad: axis ${a} of ${x.name} ${formatDims(x.dims)} is symbolic`);
    const pads = [...x.dims.map((_, i) => (i === a ? before : 0)), ...x.dims.map((_, i) => (i === a ? after : 0))];
    const dims = x.dims.map((q, i) => (i === a ? d + before + after : q));
    return this.emit('Pad', [x, this.ints(pads)], {}, x.dtype, dims, undefined, { axis: a, before });
  }

  // ---- reductions and normalisers -------------------------------------------------------

  private reduce(op: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
    const ax = axes.map((a) => normAxis(a, x.dims.length, op));
    const dims = x.dims.flatMap((d, i) => (ax.includes(i) ? (keepdims ? [1] : []) : [d]));
    const attrs = { keepdims: { kind: 'int', value: keepdims ? 1 : 0 } } as const;
    return this.emit(op, [x, this.ints(ax)], attrs, x.dtype, dims, undefined, { axes: ax, keepdims });
  }

  reduceSum(x: Value, axes: readonly number[], keepdims = false) { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: Value, axes: readonly number[], keepdims = false) { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes: readonly number[], keepdims = false) { return this.reduce('ReduceMax', x, axes, keepdims); }

  /** Sum of every element, as a scalar. */
  sumAll(x: Value): Value {
    return this.reduceSum(x, [...x.dims.keys()]);
  }

  softmax(x: Value, axis = -1): Value {
    return this.emit('Softmax', [x], { axis: { kind: 'int', value: normAxis(axis, x.dims.length, 'Softmax') } }, x.dtype, x.dims);
  }

  logSoftmax(x: Value, axis = -1): Value {
    return this.emit('LogSoftmax', [x], { axis: { kind: 'int', value: normAxis(axis, x.dims.length, 'LogSoftmax') } }, x.dtype, x.dims);
  }

  // ---- indexing -------------------------------------------------------------------------

  /** Rows of `data` picked by integer `indices` (an embedding lookup). */
  gather(data: Value, indices: Value): Value {
    return this.emit('Gather', [data, indices], { axis: { kind: 'int', value: 0 } }, data.dtype, [...indices.dims, ...data.dims.slice(1)]);
  }

  gatherElements(x: Value, indices: Value, axis: number): Value {
    const a = normAxis(axis, x.dims.length, 'GatherElements');
    return this.emit('GatherElements', [x, indices], { axis: { kind: 'int', value: a } }, x.dtype, indices.dims);
  }

  /** `data` with `updates` added at the rows named by int64 `indices` [..., 1]. */
  scatterAddRows(data: Value, indices: Value, updates: Value): Value {
    const attrs = { reduction: { kind: 'string', value: 'add' } } as const;
    return this.emit('ScatterND', [data, indices, updates], attrs, data.dtype, data.dims);
  }

  /** `data` with `updates` added at `indices` along `axis` (the inverse of gatherElements). */
  scatterAddElements(data: Value, indices: Value, updates: Value, axis: number): Value {
    const attrs = { axis: { kind: 'int', value: normAxis(axis, data.dims.length, 'ScatterElements') }, reduction: { kind: 'string', value: 'add' } } as const;
    return this.emit('ScatterElements', [data, indices, updates], attrs, data.dtype, data.dims);
  }

  /** 0, 1, ..., n-1 as int64, `n` being an int64 scalar. */
  range(n: Value, dim: Dim): Value {
    return this.emit('Range', [this.scalar(0, 'int64'), n, this.scalar(1, 'int64')], {}, 'int64', [dim]);
  }
}

/** The names a node reads: its inputs, and those of the outer graph its subgraphs (a Loop's body) read. */
function reads(n: Node): string[] {
  const names = n.inputs.map((i) => i.name);
  for (const a of Object.values(n.attrs)) if (a.kind === 'graph') names.push(...a.value.nodes.flatMap((m) => m.inputs));
  return names;
}
