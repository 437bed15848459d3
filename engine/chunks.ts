/**
 * A dim split into n consecutive chunks whose bounds are computed at run time, so a graph can
 * work through a long axis piece by piece while that dim stays symbolic: chunk i of n covers
 * ceil(iD/n) to ceil((i+1)D/n). Used by attention's query blocks (model.ts) and by the loss's
 * chunked lm-head (losses.ts).
 */
import { Graph, Value } from './onnx/builder';
import type { Dim } from './onnx/shape';

export interface Chunk {
  /** Its number of entries (a number, or a symbol defined at run time). */
  size: Dim;
  /** Where it ends: a dim of the same kind (the whole dim for the last chunk). */
  end: Dim;
  /** Its bounds as int64 [1] values for Slice; the last chunk's end is past any dim. */
  startValue: Value;
  endValue: Value;
}

const TO_END = 2 ** 62;

export function chunks(g: Graph, dim: Dim, n: number): Chunk[] {
  // Bound i: ceil(i D / n), as a dim and as a value.
  const bounds = Array.from({ length: n + 1 }, (_, i): Dim => {
    if (i === 0) return 0;
    if (i === n) return dim;
    if (typeof dim === 'number') return Math.ceil((i * dim) / n);
    const name = `${dim}_${i}of${n}`;
    g.defineDim(name, g.div(g.add(g.mul(g.dimValue(dim), g.ints([i])), g.ints([n - 1])), g.ints([n]))); // int64 division truncates
    return name;
  });
  const sizeOf = (i: number): Dim => {
    const [a, b] = [bounds[i], bounds[i + 1]];
    if (a === 0) return b;
    if (typeof a === 'number' && typeof b === 'number') return b - a;
    const name = `${dim}_rows${i}of${n}`;
    g.defineDim(name, g.sub(g.dimValue(b), g.dimValue(a)));
    return name;
  };
  return Array.from({ length: n }, (_, i) => ({
    size: sizeOf(i),
    end: bounds[i + 1],
    startValue: g.dimValue(bounds[i]),
    endValue: i + 1 === n ? g.ints([TO_END]) : g.dimValue(bounds[i + 1]),
  }));
}

/** x[start:end] along `axis`, bounds given as int64 [1] values; the result has `size` entries there. */
export function slice(g: Graph, x: Value, axis: number, start: Value, end: Value, size: Dim): Value {
  return g.emit('Slice', [x, start, end, g.ints([axis])], {}, x.dtype, x.dims.map((d, i) => (i === axis ? size : d)));
}

/** The chunk's part of x along `axis`. */
export function sliceChunk(g: Graph, x: Value, axis: number, c: Chunk): Value {
  return slice(g, x, axis, c.startValue, c.endValue, c.size);
}

/** Concat along `axis` of parts that make up `size` entries (a symbolic size the builder cannot add up). */
export function concat(g: Graph, xs: Value[], axis: number, size: Dim): Value {
  return g.emit('Concat', xs, { axis: { kind: 'int', value: axis } }, xs[0].dtype, xs[0].dims.map((d, i) => (i === axis ? size : d)));
}
