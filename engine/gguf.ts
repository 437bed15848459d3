/**
 * GGUF files (llama.cpp): the header (metadata and tensor table) and each tensor dequantized to
 * f32. The file is read through a descriptor, a tensor at a time, never whole: GGUFs of real
 * models run to many GiB. Layout (ggml docs/gguf.md): "GGUF", version (u32, 2 or 3), tensor count
 * and metadata count (u64), metadata key/values, tensor infos (name, dims fastest-first, type,
 * offset), padding to `general.alignment`, then the data. Dequantization follows ggml-quants.c,
 * in its order of f32 operations, so values are those llama.cpp and gguf-py compute.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readAt } from './read-at';
import { f16ToF32 } from './safetensors';
import type { TensorF32 } from './tensors';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** ggml tensor types this reader dequantizes: name, elements per block, bytes per block. */
const TYPES: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: 'F32', block: 1, bytes: 4 },
  1: { name: 'F16', block: 1, bytes: 2 },
  2: { name: 'Q4_0', block: 32, bytes: 18 },
  3: { name: 'Q4_1', block: 32, bytes: 20 },
  8: { name: 'Q8_0', block: 32, bytes: 34 },
  12: { name: 'Q4_K', block: 256, bytes: 144 },
  13: { name: 'Q5_K', block: 256, bytes: 176 },
  14: { name: 'Q6_K', block: 256, bytes: 210 },
  30: { name: 'BF16', block: 1, bytes: 2 },
};

/** Names of the ggml types we do not read, for the error that names one. */
const OTHER_TYPES: Record<number, string> = {
  6: 'Q5_0', 7: 'Q5_1', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS',
  19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M',
};

export interface GgufTensorInfo {
  name: string;
  /** PyTorch order (slowest first): a projection is [out, in]. */
  shape: number[];
  type: string;
  /** Absolute byte offset of the data in the file, and its length. */
  offset: number;
  bytes: number;
}

export class GgufError extends Error {
  override readonly name = 'GgufError';
}

/** An open GGUF file: its metadata and tensor table; `read` dequantizes one tensor. Close when done. */
export class GgufFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly version: number,
    readonly metadata: Map<string, GgufValue>,
    readonly tensors: Map<string, GgufTensorInfo>,
  ) {}

  static open(path: string): GgufFile {
    const fd = openSync(path, 'r');
    try {
      const r = new HeaderReader(path, fd);
      if (r.bytes(4).toString('latin1') !== 'GGUF') throw new GgufError(`${path}: not a GGUF file (magic)`);
      const version = r.u32();
      if (version !== 2 && version !== 3) throw new GgufError(`${path}: GGUF version ${version} is not supported (2 or 3)`);
      const tensorCount = r.u64('tensor count');
      const kvCount = r.u64('metadata count');
      const metadata = new Map<string, GgufValue>();
      for (let i = 0; i < kvCount; i++) {
        const key = r.string();
        metadata.set(key, r.value(r.u32(), key));
      }
      const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
      for (let i = 0; i < tensorCount; i++) {
        const name = r.string();
        const nDims = r.u32();
        const dims = Array.from({ length: nDims }, () => r.u64(`${name} dims`));
        infos.push({ name, dims, type: r.u32(), offset: r.u64(`${name} offset`) });
      }
      const alignment = Number(metadata.get('general.alignment') ?? 32);
      const dataStart = Math.ceil(r.position / alignment) * alignment;
      const size = fstatSync(fd).size;
      const tensors = new Map<string, GgufTensorInfo>();
      for (const { name, dims, type, offset } of infos) {
        const t = TYPES[type];
        if (!t) throw new GgufError(`${path}: tensor "${name}" has ggml type ${OTHER_TYPES[type] ?? type}, which is not supported (supported: ${Object.values(TYPES).map((x) => x.name).join(', ')})`);
        const count = dims.reduce((a, b) => a * b, 1);
        if (count % t.block !== 0) throw new GgufError(`${path}: tensor "${name}" has ${count} elements, not a whole number of ${t.name} blocks`);
        const info = { name, shape: [...dims].reverse(), type: t.name, offset: dataStart + offset, bytes: (count / t.block) * t.bytes };
        if (info.offset + info.bytes > size) throw new GgufError(`${path}: tensor "${name}" runs past the end of the ${size}-byte file (truncated?)`);
        tensors.set(name, info);
      }
      return new GgufFile(path, fd, version, metadata, tensors);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** One tensor, dequantized to f32. */
  read(name: string): TensorF32 {
    const info = this.tensors.get(name);
    if (!info) throw new GgufError(`${this.path}: no tensor "${name}"`);
    const raw = readAt(this.fd, info.offset, info.bytes, this.path);
    return { dims: info.shape, data: dequantize(raw, info.type, info.shape.reduce((a, b) => a * b, 1)) };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads the header through the descriptor in growing chunks (a big vocabulary's metadata runs to MBs). */
class HeaderReader {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  position = 0;

  constructor(
    private readonly path: string,
    private readonly fd: number,
  ) {}

  private need(n: number): number {
    const end = this.position + n;
    if (end > this.start + this.buf.length) {
      const want = Math.max(end - this.position, 1 << 20);
      const chunk = Buffer.allocUnsafe(want);
      const got = readSync(this.fd, chunk, 0, want, this.position);
      if (got < n) throw new GgufError(`${this.path}: header cut short at byte ${this.position} (truncated file?)`);
      this.buf = chunk.subarray(0, got);
      this.start = this.position;
    }
    const at = this.position - this.start;
    this.position = end;
    return at;
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  u32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }

  u64(what: string): number {
    const v = this.buf.readBigUInt64LE(this.need(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`${this.path}: ${what} ${v} is out of range`);
    return Number(v);
  }

  string(): string {
    return this.bytes(this.u64('string length')).toString('utf8');
  }

  value(type: number, key: string): GgufValue {
    switch (type) {
      case 0: return this.buf.readUInt8(this.need(1));
      case 1: return this.buf.readInt8(this.need(1));
      case 2: return this.buf.readUInt16LE(this.need(2));
      case 3: return this.buf.readInt16LE(this.need(2));
      case 4: return this.u32();
      case 5: return this.buf.readInt32LE(this.need(4));
      case 6: return shortestFloat32(this.buf.readFloatLE(this.need(4)));
      case 7: return this.buf.readUInt8(this.need(1)) !== 0;
      case 8: return this.string();
      case 9: {
        const itemType = this.u32();
        const n = this.u64(`${key} length`);
        return Array.from({ length: n }, () => this.value(itemType, key));
      }
      case 10: return this.buf.readBigUInt64LE(this.need(8));
      case 11: return this.buf.readBigInt64LE(this.need(8));
      case 12: return this.buf.readDoubleLE(this.need(8));
      default: throw new GgufError(`${this.path}: metadata "${key}" has unknown value type ${type}`);
    }
  }
}

/** The shortest decimal that is the same f32 (1e-5, not 9.999999747378752e-6): what the converter was given. */
function shortestFloat32(x: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const d = Number(x.toPrecision(digits));
    if (Math.fround(d) === x) return d;
  }
  return x;
}

const f32 = Math.fround;

/** Raw blocks of a ggml type -> `count` f32 values. */
export function dequantize(raw: Buffer, type: string, count: number): Float32Array {
  const out = new Float32Array(count);
  const half = (at: number) => f16ToF32(raw.readUInt16LE(at));
  switch (type) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = raw.readFloatLE(4 * i);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = half(2 * i);
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = raw.readUInt16LE(2 * i) << 16;
      break;
    }
    case 'Q8_0':
      for (let b = 0, o = 0; o < count; b += 34, o += 32) {
        const d = half(b);
        for (let j = 0; j < 32; j++) out[o + j] = f32(raw.readInt8(b + 2 + j) * d);
      }
      break;
    case 'Q4_0':
    case 'Q4_1': {
      const withMin = type === 'Q4_1';
      const size = withMin ? 20 : 18;
      for (let b = 0, o = 0; o < count; b += size, o += 32) {
        const d = half(b);
        const m = withMin ? half(b + 2) : 0;
        const qs = b + (withMin ? 4 : 2);
        for (let j = 0; j < 16; j++) {
          const q = raw[qs + j];
          if (withMin) {
            out[o + j] = f32(f32((q & 0xf) * d) + m);
            out[o + j + 16] = f32(f32((q >> 4) * d) + m);
          } else {
            out[o + j] = f32(((q & 0xf) - 8) * d);
            out[o + j + 16] = f32(((q >> 4) - 8) * d);
          }
        }
      }
      break;
    }
    case 'Q4_K':
    case 'Q5_K': {
      const five = type === 'Q5_K';
      const size = five ? 176 : 144;
      for (let b = 0, o = 0; o < count; b += size, o += 256) {
        const d = half(b);
        const dmin = half(b + 2);
        const scales = b + 4;
        const qh = b + 16; // Q5_K only: the fifth bits
        let qs = b + (five ? 48 : 16);
        for (let j = 0, is = 0, shift = 0; j < 256; j += 64, is += 2, shift += 2, qs += 32) {
          const [sc1, m1] = scaleMinK4(raw, scales, is);
          const [sc2, m2] = scaleMinK4(raw, scales, is + 1);
          const d1 = f32(d * sc1), min1 = f32(dmin * m1);
          const d2 = f32(d * sc2), min2 = f32(dmin * m2);
          for (let l = 0; l < 32; l++) {
            const q = raw[qs + l];
            const hi1 = five && raw[qh + l] & (1 << shift) ? 16 : 0;
            const hi2 = five && raw[qh + l] & (2 << shift) ? 16 : 0;
            out[o + j + l] = f32(f32(d1 * ((q & 0xf) + hi1)) - min1);
            out[o + j + 32 + l] = f32(f32(d2 * ((q >> 4) + hi2)) - min2);
          }
        }
      }
      break;
    }
    case 'Q6_K':
      for (let b = 0, o = 0; o < count; b += 210, o += 256) {
        const d = half(b + 208);
        for (let n = 0; n < 2; n++) {
          const ql = b + 64 * n;
          const qh = b + 128 + 32 * n;
          const sc = b + 192 + 8 * n;
          const y = o + 128 * n;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const h = raw[qh + l];
            const q1 = ((raw[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
            const q2 = ((raw[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
            const q3 = ((raw[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
            const q4 = ((raw[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
            out[y + l] = f32(f32(d * raw.readInt8(sc + is)) * q1);
            out[y + l + 32] = f32(f32(d * raw.readInt8(sc + is + 2)) * q2);
            out[y + l + 64] = f32(f32(d * raw.readInt8(sc + is + 4)) * q3);
            out[y + l + 96] = f32(f32(d * raw.readInt8(sc + is + 6)) * q4);
          }
        }
      }
      break;
    default:
      throw new GgufError(`ggml type ${type} is not supported`);
  }
  return out;
}

/** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from 12 packed bytes. */
function scaleMinK4(raw: Buffer, at: number, j: number): [number, number] {
  const q = (i: number) => raw[at + i];
  if (j < 4) return [q(j) & 63, q(j + 4) & 63];
  return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
}
