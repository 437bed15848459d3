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

const utf8 = new TextEncoder();
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Serialises one protobuf message into one growing buffer; nested messages are written through
 * `message()`. A SmolLM2 train graph is about 10,000 nodes and 1.3 MB: writing it a few bytes
 * at a time into arrays of their own (and every varint through a BigInt) took 0.2-0.3 s of
 * every engine's first step.
 */
class Writer {
  private buf = new Uint8Array(64);
  private size = 0;

  private reserve(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buf.length, this.size + n));
    grown.set(this.buf.subarray(0, this.size));
    this.buf = grown;
  }

  private varint(v: number): void {
    this.reserve(10);
    if (v < 0) {
      // Negative ints are sent as 10-byte two's complement.
      let x = BigInt.asUintN(64, BigInt(v));
      for (; x >= 0x80n; x >>= 7n) this.buf[this.size++] = Number(x & 0x7fn) | 0x80;
      this.buf[this.size++] = Number(x);
      return;
    }
    if (!Number.isSafeInteger(v)) throw new Error(`protobuf varint: ${v} is not an integer the encoder can write exactly`);
    for (; v >= 0x80; v = Math.floor(v / 0x80)) this.buf[this.size++] = (v % 0x80) | 0x80;
    this.buf[this.size++] = v;
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.size);
    this.size += b.length;
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.size, v, true);
    this.size += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.raw(b);
    return this;
  }

  string(field: number, s: string): this {
    // Names are ASCII (one byte a character) but for what a user may name; TextEncoder was the slowest part.
    if (!ASCII.test(s)) return this.bytes(field, utf8.encode(s));
    this.tag(field, 2);
    this.varint(s.length);
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.size++] = s.charCodeAt(i);
    return this;
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.buf.subarray(0, w.size));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.size);
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
