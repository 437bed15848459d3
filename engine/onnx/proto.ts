/**
 * A minimal protobuf encoder for the few onnx.proto messages a model needs.
 * Field numbers are those of onnx/onnx.proto (IR version 10); only writing is supported.
 */

/** onnx TensorProto.DataType values for the element types the engine uses. */
export const DataType = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type DType = keyof typeof DataType;

/**
 * A constant tensor: its little-endian element bytes inside the model (`raw`), or outside it
 * (`external`): the whole of a data file of that name, which the session is given beside the
 * model (device.ts), so a model of large tensors stays within protobuf's 2 GB.
 */
export type TensorProto = { name: string; dtype: DType; dims: number[] } & ({ raw: Uint8Array } | { external: string });

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; value: TensorProto }
  | { kind: 'graph'; value: GraphProto };

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
}

/** A graph input/output: a symbolic dim is a string (dim_param), a fixed one a number. */
export interface ValueInfoProto {
  name: string;
  dtype: DType;
  dims: (number | string)[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** Shapes of values computed inside the graph. */
  valueInfo: ValueInfoProto[];
}

/** Serialises one protobuf message; nested messages are written through `message()`. */
class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v)); // negative ints are sent as 10-byte two's complement
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function tensor(t: TensorProto): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, DataType[t.dtype]).string(8, t.name);
  if ('raw' in t) return w.bytes(9, t.raw);
  // external_data entries (StringStringEntryProto: key 1, value 2), then data_location EXTERNAL.
  return w.message(13, new Writer().string(1, 'location').string(2, t.external)).int(14, 1);
}

const AttrType = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, ints: 7 } as const;

function attribute(name: string, a: AttributeValue): Writer {
  const w = new Writer().string(1, name);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, tensor(a.value)); break;
    case 'graph': w.message(6, graph(a.value)); break;
    case 'ints': for (const v of a.value) w.int(8, v); break;
  }
  return w.int(20, AttrType[a.kind]);
}

function node(n: NodeProto): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) w.message(5, attribute(k, a));
  return w;
}

function valueInfo(v: ValueInfoProto): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  }
  const tensorType = new Writer().int(1, DataType[v.dtype]).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function graph(g: GraphProto): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensor(t));
  for (const i of g.inputs) w.message(11, valueInfo(i));
  for (const o of g.outputs) w.message(12, valueInfo(o));
  for (const v of g.valueInfo) w.message(13, valueInfo(v));
  return w;
}

/** Encodes a ModelProto (IR 10, default domain at `opset`) ready for `InferenceSession.create`. */
export function encodeModel(g: GraphProto, opset: number): Uint8Array {
  const opsetId = new Writer().string(1, '').int(2, opset);
  return new Writer()
    .int(1, 10)
    .string(2, 'r1-pipeline')
    .message(7, graph(g))
    .message(8, opsetId)
    .finish();
}
